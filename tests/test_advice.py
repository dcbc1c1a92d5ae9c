"""The advice of quotas that cannot be met, where a user reads it: the library says what each line
is (``sortition.Advice``: a change of the quotas, a time limit, ...), the command line and the
page each word it for their user and head a change of the quotas apart from other advice.

A time limit that passed before the smallest change was found is made to pass by a relaxation
that runs out of time (``relax_quotas`` raising the ``TimeoutError`` CP-SAT's limit gives), so
the tests do not depend on how fast the machine is. The browser's side of it is in
tests/test_web_browser.py."""

from __future__ import annotations

import json
import pickle
import re
import shlex
from pathlib import Path

import pytest

import sortition
from sortition.errors import N_, Advice, Message, split_advice
from sortition.selection import feasibility
from tests.helpers import EXAMPLE, run_cli

CHANGE_HEADING = "advice (smallest change that makes a panel possible):"
OTHER_HEADING = "advice:"
CHANGE = re.compile(r"gender (fe)?male: lower min from \d+ to \d+")
CLI_TIME_LIMIT = (
    "the time limit (60 s) passed before the smallest change of the quotas was found: "
    "'sortition check' with a longer --time-limit can find it"
)


def infeasible_quotas(folder: Path) -> Path:
    """The example's quotas with more women asked for than a panel of 20 can hold with the
    rest: no panel meets them, and the smallest change lowers a gender's min (``CHANGE``)."""
    text = (EXAMPLE / "quotas.csv").read_text(encoding="utf-8")
    path = folder / "quotas.csv"
    path.write_text(text.replace("gender,female,10,11", "gender,female,15,16"), encoding="utf-8")
    return path


def out_of_time(*args: object) -> None:
    raise TimeoutError("CP-SAT found no relaxation within the time limit")


def advice_block(stderr: str) -> list[str]:
    """The lines from the first advice heading on (English or Hebrew)."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("advice", "עצה")))
    return lines[start:]


# --------------------------------------------------------------------------- the library


def test_each_line_says_what_it_is() -> None:
    change = Advice(N_("total change: {total}"), Advice.CHANGE_TOTAL, total=3)
    other = Advice(N_("lower k to {n} or less, or recruit more volunteers"), "no quota change", n=5)
    assert str(change) == "total change: 3" and change.is_quota_change
    assert not other.is_quota_change and other.kind == Advice.NO_QUOTA_CHANGE
    assert split_advice([other, change, "plain"]) == ([change], [other, "plain"])
    for line in (change, other):
        back = pickle.loads(pickle.dumps(line))
        assert (type(back), back, back.kind, back.params) == (
            Advice,
            line,
            line.kind,
            line.params,
        )
    assert Advice.of(Message(N_("total change: {total}"), total=3), "change total") == change


def test_the_check_of_an_infeasible_pool_advises_a_change(tmp_path: Path) -> None:
    loaded = sortition.load(EXAMPLE / "pool.csv", infeasible_quotas(tmp_path), 20)
    with pytest.raises(sortition.InfeasibleError) as raised:
        sortition.check(loaded)
    advice = raised.value.advice
    assert all(isinstance(line, sortition.Advice) for line in advice)
    assert [line.kind for line in advice][-1] == Advice.CHANGE_TOTAL
    assert {line.kind for line in advice[:-1]} == {Advice.QUOTA_CHANGE}
    assert CHANGE.fullmatch(advice[0])


def test_a_time_limit_is_advice_of_its_own_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feasibility, "relax_quotas", out_of_time)
    loaded = sortition.load(EXAMPLE / "pool.csv", infeasible_quotas(tmp_path), 20)
    with pytest.raises(sortition.InfeasibleError) as raised:
        sortition.check(loaded, time_limit=7)
    (line,) = raised.value.advice
    assert isinstance(line, Advice) and line.kind == Advice.TIME_LIMIT
    assert dict(line.params) == {"seconds": "7"}
    assert "--time-limit" not in line  # the library's own words name no option of a command


# --------------------------------------------------------------------------- the command line


def test_the_command_line_heads_a_change_of_the_quotas_as_such(tmp_path: Path) -> None:
    quotas = infeasible_quotas(tmp_path)
    result = run_cli(["check", "--pool", EXAMPLE / "pool.csv", "--quotas", quotas, "-k", 20])
    assert result.exit_code == 3, result.stderr
    block = advice_block(result.stderr)
    assert block[0] == CHANGE_HEADING
    assert CHANGE.fullmatch(block[1].strip())
    assert block[-1].startswith("  total change: ")
    assert OTHER_HEADING not in block


def test_advice_that_is_no_change_of_the_quotas_has_its_own_heading(tmp_path: Path) -> None:
    """k above the pool: no change of the quotas helps, so the change's heading would mislead."""
    args = ["check", "--pool", EXAMPLE / "pool.csv", "--quotas", EXAMPLE / "quotas.csv"]
    result = run_cli([*args, "-k", 500])
    assert result.exit_code == 3
    assert advice_block(result.stderr) == [
        OTHER_HEADING,
        "  lower k to 200 or less, or recruit more volunteers",
    ]
    hebrew = run_cli(["--lang", "he", *args, "-k", 500])
    assert advice_block(hebrew.stderr)[0] == "עצה:"
    assert "עצה (" not in hebrew.stderr


@pytest.mark.parametrize("command", ["check", "select"])
def test_the_command_line_says_which_option_gives_a_longer_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """check and select (whose check takes 60 s without --time-limit) both point to check's
    --time-limit, which finds the change alone; in Hebrew too."""
    monkeypatch.setattr(feasibility, "relax_quotas", out_of_time)
    quotas = infeasible_quotas(tmp_path)
    args = [command, "--pool", EXAMPLE / "pool.csv", "--quotas", quotas, "-k", 20]
    if command == "select":
        args += ["--seed", "x", "--out", tmp_path / "out"]
    result = run_cli(args)
    assert result.exit_code == 3, result.stderr
    assert advice_block(result.stderr) == [OTHER_HEADING, f"  {CLI_TIME_LIMIT}"]
    hebrew = run_cli(["--lang", "he", *args])
    assert advice_block(hebrew.stderr) == [
        "עצה:",
        "  מגבלת הזמן (60 שניות) עברה לפני שנמצא השינוי הקטן ביותר במכסות: 'sortition check' עם "
        "--time-limit ארוך יותר יכולה למצוא אותו",
    ]
    assert not (tmp_path / "out").exists()


def test_replace_help_says_what_its_time_limit_bounds() -> None:
    result = run_cli(["replace", "--help"])
    text = " ".join(result.stdout.split())
    assert "Seconds the search for a set of replacements that meets the derived quotas" in text
    assert "Not used with --from-alternates." in text
    assert "Seconds the fair algorithms may run" not in text
    select = " ".join(run_cli(["select", "--help"]).stdout.split())
    assert "Seconds the fair algorithms may run" in select


# --------------------------------------------------------------------------- the page

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from tests.test_web import client, example_files, finish, new_project, start_draw  # noqa: E402


def page_lists(page: str) -> dict[str, list[str]]:
    """The advice lists of a page: ``advice`` (the change) and ``other-advice``, item by item
    (tags dropped; an option's isolate is inline)."""
    found = {}
    for name in ("advice", "other-advice"):
        match = re.search(rf'<ul id="{name}">(.*?)</ul>', page, re.S)
        if match:
            items = re.findall(r"<li[^>]*>(.*?)</li>", match.group(1), re.S)
            items = [re.sub(r"</?bdi[^>]*>", "", item) for item in items]
            found[name] = [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]
    return found


def upload_infeasible(browser, project: str, folder: Path, language: str = "en") -> str:
    response = browser.post(
        f"{project}/inputs?lang={language}",
        files=example_files(quotas=infeasible_quotas(folder)),
        data={"k": "20", "household_columns": "address,postcode"},
    )
    assert response.status_code == 200, response.text
    return response.text


def test_the_page_heads_a_change_of_the_quotas_as_such(tmp_path: Path) -> None:
    browser = client(tmp_path / "data")
    page = upload_infeasible(browser, new_project(browser), tmp_path)
    assert "The smallest change that makes a panel possible:" in page
    assert "What can help:" not in page
    lists = page_lists(page)
    assert list(lists) == ["advice"]
    assert CHANGE.fullmatch(lists["advice"][0])


def test_the_page_says_how_to_search_longer_than_it_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's check stops after 30 s and the page has no field for more: the advice says so
    and gives the command line that searches longer, on the files as they were uploaded."""
    monkeypatch.setattr(feasibility, "relax_quotas", out_of_time)
    browser = client(tmp_path / "data")
    page = upload_infeasible(browser, new_project(browser), tmp_path)
    assert "The smallest change that makes a panel possible:" not in page
    assert "What can help:" in page
    (line,) = page_lists(page)["other-advice"]
    command = (
        "sortition check --pool pool.csv --quotas quotas.csv -k 20 "
        "--household-columns address,postcode --time-limit 300"
    )
    assert line == (
        "The check searched for the smallest change of the quotas for 30 s and did not find it "
        "in that time; the page cannot give it longer. To search longer, run the check on the "
        f"command line with a longer --time-limit: {command}"
    )
    assert shlex.split(command)[1] == "check"
    assert "can find it" not in page  # the command line's words are not the page's
    hebrew = upload_infeasible(browser, new_project(browser), tmp_path, "he")
    assert "מה יכול לעזור:" in hebrew
    assert page_lists(hebrew)["other-advice"][0].endswith(command)
    # The option in the Hebrew sentence is isolated left to right, or it shows as "time-limit--".
    assert '<bdi dir="ltr">--time-limit</bdi>' in hebrew


def test_the_page_isolates_options_in_running_text() -> None:
    """Every option in a message is put in a left-to-right isolate, the rest escaped; hyphens
    inside a word or a number are not an option."""
    from sortition.web.app import isolate_options

    assert isolate_options("עם --time-limit ארוך, <b>") == (
        'עם <bdi dir="ltr">--time-limit</bdi> ארוך, &lt;b&gt;'
    )
    assert isolate_options("a--b 3--4 -x") == "a--b 3--4 -x"
    assert isolate_options("(--seed or --beacon)") == (
        '(<bdi dir="ltr">--seed</bdi> or <bdi dir="ltr">--beacon</bdi>)'
    )


def test_a_failed_draw_heads_its_advice_and_says_how_to_search_longer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A draw whose check finds no panel: its run page heads the change as such; when the
    change was not found in the check's 60 s, it says how to search longer (k as drawn)."""
    browser = client(tmp_path / "data")
    project = new_project(browser)
    upload_infeasible(browser, project, tmp_path)
    run = start_draw(browser, project, k="20")
    assert finish(browser, run)["state"] == "failed"
    page = browser.get(run).text
    assert "The smallest change that makes a panel possible:" in page
    assert list(page_lists(page)) == ["advice"]
    monkeypatch.setattr(feasibility, "relax_quotas", out_of_time)
    run = start_draw(browser, project, k="20")
    assert finish(browser, run)["state"] == "failed"
    page = browser.get(run).text
    assert list(page_lists(page)) == ["other-advice"]
    (line,) = page_lists(page)["other-advice"]
    assert "quotas for 60 s" in line
    assert line.endswith(
        "sortition check --pool pool.csv --quotas quotas.csv -k 20 "
        "--household-columns address,postcode --time-limit 600"
    )
    kept = [json.loads(p.read_text()) for p in (tmp_path / "data").glob("*/runs/*.json")]
    stored = [k["outcome"]["advice"] for k in kept if "outcome" in k]
    assert any(lines and lines[0].get("advice") == Advice.TIME_LIMIT for lines in stored)


def test_advice_kept_by_an_older_page_still_shows_as_it_did(tmp_path: Path) -> None:
    """A project's check, or a failed run's advice, kept before the kinds were: under the
    change's heading, as the page showed every line of advice then."""
    from sortition.web.app import check_view, page_advice
    from sortition.web.projects import Project, Settings

    old = {"feasible": False, "problems": ["p"], "advice": ["gender female: lower min"]}
    assert check_view(old) == {**old, "changes": ["gender female: lower min"], "advice": []}
    assert check_view(None) is None
    kept = [Message(N_("total change: {total}"), total=2), "plain text"]
    project = Project("x", tmp_path, Settings("x", "owner"))
    assert page_advice(kept, project, 20, True) == {
        "changes": ["total change: 2", "plain text"],
        "advice": [],
    }
