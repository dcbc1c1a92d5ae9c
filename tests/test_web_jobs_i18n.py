"""A draw that fails in the page's background job (issue #18): runs/<n>.json keeps the library's
templates and values, so the run's page shows the problems and the advice in the language of
each request, after a restart too; a run kept as plain strings still shows them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from sortition.errors import N_, Message, problem
from sortition.web.app import create_app
from sortition.web.jobs import from_stored, to_stored
from tests.test_web import LOCAL, finish, new_project, start_draw, upload_example

HEBREW = re.compile(r"[\u0590-\u05ff]")


def failed_items(page: str) -> list[str]:
    block = page.split('id="failed"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<li class="msg">(.*?)</li>', block)


def test_a_failed_draw_in_hebrew_and_english_even_after_a_restart(tmp_path: Path) -> None:
    browser = TestClient(create_app(tmp_path), base_url=LOCAL)
    project = new_project(browser)
    upload_example(browser, project)
    run = start_draw(browser, project, k="5")  # no panel of 5 meets quotas made for 20
    assert finish(browser, run)["state"] == "failed"
    english = failed_items(browser.get(f"{run}?lang=en").text)
    hebrew = failed_items(browser.get(f"{run}?lang=he").text)
    assert len(english) == len(hebrew) > 1 and english != hebrew
    assert not any(HEBREW.search(line) for line in english)
    assert any("min" in line and HEBREW.search(line) for line in hebrew)  # the advice
    restarted = TestClient(create_app(tmp_path), base_url=LOCAL)
    restarted.cookies = browser.cookies
    assert failed_items(restarted.get(f"{run}?lang=he").text) == hebrew
    assert failed_items(restarted.get(f"{run}?lang=en").text) == english
    kept = [json.loads(p.read_text()) for p in tmp_path.glob("*/runs/*.json")]
    outcome = next(k["outcome"] for k in kept if "outcome" in k)
    assert all(isinstance(line, dict) for line in outcome["advice"])


def test_stored_problems_come_back_as_they_were() -> None:
    inner = Message(N_("{shown} and {more} more"), shown="a, b", more=2)
    examples = [
        problem(N_("column {name} is missing"), file="pool.csv", row=3, column="age", name="x"),
        Message(N_("{detail} (this is {here})"), detail=inner, here="sortition 1"),
        "plain text",
    ]
    for text in examples:
        stored = json.loads(json.dumps(to_stored(text)))
        back = from_stored(stored)
        assert str(back) == str(text) and type(back) is type(text)
        assert to_stored(back) == stored
    assert from_stored("kept before templates were stored") == "kept before templates were stored"
