"""The page's alternates (``sortition alternates``, docs/dropouts.md) through its HTTP interface:
choose them for a drawn panel of the bundled example, read the comparison with the two
baselines on the run's page, download what the command writes, verify; bad requests explained
beside the form, with nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient

from tests.helpers import run_cli
from tests.test_web import client, finish
from tests.test_web_replace import (
    POOL,
    POOL_SINCE,
    drawn_panel,
    moved_pool,
    project_files,
    project_runs,
    started,
    upload_pool,
)

FILES = ("alternates.csv", "comparison.csv", "alternates.json")


def alternates_form(**more: str) -> dict[str, str]:
    form = {"builds_on": "1", "budget": "4", "model": "rate", "rate": "0.1"}
    form.update(scenarios="50", evaluation="200", seed_kind="text", seed="alternates-2026")
    form.update(more)
    return form


def verified(browser: TestClient, run: str) -> str:
    """The run's verification as an organiser sees it: "Verify this record" starts it in the
    background (its page shows the progress and a cancel button), and the page, reloaded once
    it has finished, shows the checklist."""
    waiting = browser.get(f"{run}/verify")
    assert waiting.status_code == 200 and 'id="verifying"' in waiting.text
    assert '<script src="/static/run.js">' in waiting.text  # polls, then reloads: the checklist
    assert (
        f'data-status="{run}-verify/status"' in waiting.text and 'id="verdict"' not in waiting.text
    )
    assert finish(browser, f"{run}-verify", seconds=300)["state"] == "done"
    return browser.get(f"{run}/verify").text


def test_alternates_write_what_the_command_writes(tmp_path: Path) -> None:
    """A uniform rate of 0.1, four alternates: the page shows the figures of the four sets; the
    downloads are byte for byte ``sortition alternates``'s, marked as the privacy rules say; the
    record verifies."""
    browser = client(tmp_path / "data")
    project, _run, _panel, record = drawn_panel(browser, tmp_path)
    assert 'id="to-alternates"' in browser.get(project).text
    assert 'id="alternates-form"' in browser.get(f"{project}/alternates").text
    run = started(
        browser.post(f"{project}/alternates", data=alternates_form(), follow_redirects=False)
    )
    assert finish(browser, run, seconds=300)["state"] == "done"
    page = browser.get(run).text
    assert "Alternates 2" in page and "Done: 4 alternates chosen." in page
    assert "4 alternates, dropout rate 0.1, builds on Draw 1" in page
    figures = page.split('id="figures"', 1)[1].split("</table>", 1)[0]
    for name in ("No alternates", "The alternates chosen", "Quotas scaled down", "Nearest"):
        assert name in figures
    for name, kind in (
        ("alternates.csv", "private: keep it to yourself"),
        ("comparison.csv", "may be published"),
        ("alternates.json", "may be published"),
    ):
        assert kind in page.split(f"/files/{name}", 1)[1].split("</li>", 1)[0], name
    cli = run_cli(
        [
            "alternates",
            "--record",
            record,
            "--pool",
            POOL,
            "--budget",
            "4",
            "--dropout-rate",
            "0.1",
            "--scenarios",
            "50",
            "--evaluate",
            "200",
            "--seed",
            "alternates-2026",
            "--out",
            tmp_path / "cli",
        ]
    )
    assert cli.exit_code == 0, cli.stderr
    for name in FILES:
        assert browser.get(f"{run}/files/{name}").content == (tmp_path / "cli" / name).read_bytes()
    assert "Every check passed." in verified(browser, run)
    assert "Alternates 2" in browser.get(project).text


def test_a_per_value_model_file(tmp_path: Path) -> None:
    """Rates per quota value from an uploaded CSV; a value the quotas do not have is refused
    beside the form with the library's message (file, row)."""
    browser = client(tmp_path / "data")
    project, _run, _panel, _record = drawn_panel(browser, tmp_path)
    bad = b"feature,value,rate\nage,16-29,0.2\nage,over 100,0.5\n"
    response = browser.post(
        f"{project}/alternates",
        data=alternates_form(model="per-value"),
        files={"model_file": ("rates.csv", bad, "text/csv")},
    )
    assert response.status_code == 400 and "rates.csv, row 3" in response.text
    good = b"feature,value,rate\nage,16-29,0.2\nage,65+,0.05\n"
    run = started(
        browser.post(
            f"{project}/alternates",
            data=alternates_form(model="per-value"),
            files={"model_file": ("rates.csv", good, "text/csv")},
            follow_redirects=False,
        )
    )
    assert finish(browser, run, seconds=300)["state"] == "done"
    assert "Done: 4 alternates chosen." in browser.get(run).text


def test_bad_alternates_requests_are_explained(tmp_path: Path) -> None:
    data = tmp_path / "data"
    browser = client(data)
    project, _run, _panel, _record = drawn_panel(browser, tmp_path)
    before = project_runs(data, project)
    for form, message in (
        (alternates_form(budget="0"), "the number of alternates must be a whole number"),
        (alternates_form(rate="1.5"), "the dropout rate must be a number from 0 to below 1"),
        (alternates_form(scenarios="5000"), "the number of scenarios must be a whole number"),
        (alternates_form(model="fitted"), "choose the file of the dropout model"),
        (alternates_form(seed=""), "enter the seed"),
        (alternates_form(builds_on="7"), "choose the draw or the replacement round"),
    ):
        response = browser.post(f"{project}/alternates", data=form)
        assert response.status_code == 400 and message in response.text, message
        assert 'id="alternates-problems"' in response.text
    assert project_runs(data, project) == before  # nothing started, nothing written


def test_more_alternates_than_candidates_or_a_pool_uploaded_again_are_refused(
    tmp_path: Path,
) -> None:
    """Known once the record and the pool file are read (``sortition.check_alternates``), yet
    refused beside the form before anything starts: more alternates than the panel's candidates
    (the number said), and the project's pool uploaded again since the draw (the pool file named,
    and what to do); 400, no run numbered, no file of the project changed. The largest number
    allowed starts."""
    data = tmp_path / "data"
    browser = client(data)
    project, _run, panel, _record = drawn_panel(browser, tmp_path)
    before = project_files(data, project)
    response = browser.post(f"{project}/alternates", data=alternates_form(budget="999"))
    assert response.status_code == 400 and "Traceback" not in response.text
    problems = response.text.split('id="alternates-problems"', 1)[1].split("</ul>", 1)[0]
    found = re.search(
        r"record\.json: 999 alternates asked for, but its panel&#39;s candidates for alternates "
        r"live in only (\d+) households",
        problems,
    )
    assert found is not None, problems
    assert POOL_SINCE not in problems
    assert project_files(data, project) == before

    upload_pool(browser, project, moved_pool(panel))
    before = project_files(data, project)
    for lang in ("en", "he"):
        response = browser.post(f"{project}/alternates?lang={lang}", data=alternates_form())
        assert response.status_code == 400
        problems = response.text.split('id="alternates-problems"', 1)[1].split("</ul>", 1)[0]
        assert "pool.csv: " in problems
        assert ("is not the pool the panel was drawn from" in problems) == (lang == "en")
        assert (POOL_SINCE in problems) == (lang == "en")
    assert project_files(data, project) == before

    upload_pool(browser, project, POOL.read_bytes())
    run = started(
        browser.post(
            f"{project}/alternates?lang=en",
            data=alternates_form(budget=found.group(1), scenarios="20", evaluation="50"),
            follow_redirects=False,
        )
    )
    assert finish(browser, run, seconds=300)["state"] == "done"
    assert f"Done: {found.group(1)} alternates chosen." in browser.get(run).text


def test_verifying_alternates_runs_in_the_background(tmp_path: Path) -> None:
    """ "Verify this record" makes the choice again (seconds), so it runs in the background: its
    page shows the progress and a cancel button; a cancel goes back to the run's page; the next
    visit verifies again, and the checklist is shown once, in the reader's language (the next
    visit starts anew). A record that no longer reads is explained, with no traceback."""
    data = tmp_path / "data"
    browser = client(data)
    project, _run, _panel, _record = drawn_panel(browser, tmp_path)
    run = started(
        browser.post(
            f"{project}/alternates",
            data=alternates_form(scenarios="20", evaluation="400"),
            follow_redirects=False,
        )
    )
    assert finish(browser, run, seconds=300)["state"] == "done"

    def cancel_it() -> None:
        first = browser.get(f"{run}/verify", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].endswith(f"{run}/verify")
        cancelled = browser.post(f"{run}/verify/cancel", follow_redirects=False)
        assert cancelled.status_code == 303 and cancelled.headers["location"].endswith(run)
        assert finish(browser, f"{run}-verify")["state"] == "cancelled"

    cancel_it()
    again = browser.get(f"{run}/verify")
    assert 'id="verifying"' in again.text and 'id="verdict"' not in again.text
    assert finish(browser, f"{run}-verify", seconds=300)["state"] == "done"
    hebrew = browser.get(f"{run}/verify?lang=he").text
    assert 'id="verdict" class="verdict ok"' in hebrew and "Every check passed." not in hebrew
    cancel_it()  # shown once: the next visit verifies anew

    folder = data / project.rsplit("/", 1)[-1] / "runs" / run.rsplit("/", 1)[-1]
    (folder / "alternates.json").write_text("{}", encoding="utf-8")
    assert browser.get(f"{run}/verify?lang=en", follow_redirects=False).status_code == 303
    assert finish(browser, f"{run}-verify")["state"] == "failed"
    broken = browser.get(f"{run}/verify")
    assert broken.status_code == 400 and 'id="verify-problems"' in broken.text
    assert "Traceback" not in broken.text and 'id="verdict"' not in broken.text
