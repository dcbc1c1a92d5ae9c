"""The page's Seat at tables (``sortition groups``, docs/groups.md) through its HTTP interface,
as an organiser uses it: seat a drawn panel of the bundled example in rounds, with a rule from
a file and names for the printed plan, read the seating on the run's page, download what the
command writes, verify; with the project's pseudonym key the record names nobody; bad requests
explained beside the form, with nothing written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from click.testing import Result
from fastapi.testclient import TestClient

from sortition.web.projects import KEY_FILE
from tests.helpers import run_cli
from tests.test_web import client, finish, new_project
from tests.test_web_privacy import draw, emails, folder_of, upload
from tests.test_web_replace import drawn_panel, project_runs, replace_form, started

FILES = ("groups.csv", "groups.json", "summary.json", "seating.html")


def groups_form(**more: str) -> dict[str, object]:
    form: dict[str, object] = {"builds_on": "1", "layout": "size", "size": "5", "rounds": "3"}
    form.update(balance=["gender", "age"], name_column="first_name")
    form.update(seed_kind="text", seed="world-cafe-2026")
    form.update(more)
    return form


def panel_file(browser: TestClient, run: str, folder: Path) -> Path:
    """The draw's selected.csv as downloaded, under its own name (the record names it)."""
    path = folder / "selected.csv"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(browser.get(f"{run}/files/selected.csv").content)
    return path


def panel_ids(path: Path, column: str = "id") -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as rows:
        return [row[column] for row in csv.DictReader(rows)]


def same_as_the_command(browser: TestClient, run: str, cli: Result, out: Path) -> None:
    """The run's downloads are byte for byte what the command wrote into ``out``."""
    assert cli.exit_code == 0, cli.stderr
    for name in FILES:
        assert browser.get(f"{run}/files/{name}").content == (out / name).read_bytes(), name


def test_groups_write_what_the_command_writes(tmp_path: Path) -> None:
    """Tables of at most 5, three rounds, gender and age balanced, a carer and the person they
    care for together (a file), names on the plan: the page shows the measures and every
    table's people in each round; the downloads are byte for byte ``sortition groups``'s,
    marked as the privacy rules say; the record verifies against the panel's file."""
    browser = client(tmp_path / "data")
    project, run, _panel, _record = drawn_panel(browser, tmp_path)
    assert 'id="to-groups"' in browser.get(project).text
    page = browser.get(f"{project}/groups").text
    assert 'id="groups-form"' in page and 'id="builds-on-1"' in page
    for column in ("gender", "age", "area", "education", "first_name"):
        box = page.split(f'name="balance" value="{column}"', 1)[1].split(">", 1)[0]
        assert ("checked" in box) == (column != "first_name"), column  # the quota features
    assert 'value="id"' not in page  # the id column is no choice
    selected = panel_file(browser, run, tmp_path / "panel")
    people = panel_ids(selected)
    together = f"carer,cared for\n{people[0]},{people[1]}\n"
    response = browser.post(
        f"{project}/groups",
        data=groups_form(),
        files={"together_file": ("carers.csv", together.encode(), "text/csv")},
        follow_redirects=False,
    )
    seating = started(response)
    assert finish(browser, seating, seconds=300)["state"] == "done"
    page = browser.get(seating).text
    assert "Seating 2" in page
    assert "at most 5 people a table, 3 rounds, balance <bdi>gender, age</bdi>" in page
    assert "builds on Draw 1" in page
    assert "Done: 20 people seated at 4 tables in 3 rounds." in page
    assert "no seating has fewer than" in page and "Largest balance deviation" in page
    table = page.split('id="seating"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 1 + 4 and "Round 3" in table
    for person in people:
        assert table.count(f'<code class="ltr">{person}</code>') == 3, person
    for name, kind in (
        ("groups.csv", "private: keep it to yourself"),
        ("seating.html", "private: keep it to yourself"),
        ("groups.json", "may be published"),
        ("summary.json", "may be published"),
    ):
        assert kind in page.split(f"/files/{name}", 1)[1].split("</li>", 1)[0], name

    (tmp_path / "carers.csv").write_text(together, encoding="utf-8")
    cli = run_cli(
        ["groups", "--panel", selected, "--size", "5", "--rounds", "3",
         "--balance", "gender,age", "--together", tmp_path / "carers.csv",
         "--name-column", "first_name", "--id-column", "id",
         "--seed", "world-cafe-2026", "--out", tmp_path / "cli"]
    )  # fmt: skip
    same_as_the_command(browser, seating, cli, tmp_path / "cli")
    record = json.loads((tmp_path / "cli" / "groups.json").read_bytes())
    assert any({people[0], people[1]} <= set(t) for t in record["seating"][0])
    report = browser.get(f"{seating}/verify").text
    assert "Every check passed." in report and "panel file" in report
    assert "Seating 2" in browser.get(project).text


def test_groups_of_a_keyed_project_name_nobody(tmp_path: Path) -> None:
    """E-mail ids: the seating builds on a draw made with the project's key, so groups.json
    names everyone by the pseudonyms of the draw's record (the page shows those), groups.csv
    by e-mail; both are what ``sortition groups --pseudonym-key`` writes; verify passes."""
    data = tmp_path / "data"
    browser = client(data)
    project = new_project(browser)
    upload(browser, project)
    run = draw(browser, project)
    pseudonyms = json.loads(browser.get(f"{run}/files/record.json").content)["panel"]
    form = groups_form(layout="tables", tables="4", rounds="2", name_column="")
    seating = started(browser.post(f"{project}/groups", data=form, follow_redirects=False))
    assert finish(browser, seating, seconds=300)["state"] == "done"
    page = browser.get(seating).text
    assert 'id="pseudonymous"' in page and "4 tables, 2 rounds" in page
    record = browser.get(f"{seating}/files/groups.json").content
    assert sorted(json.loads(record)["panel"]["ids"]) == sorted(pseudonyms)
    for person in pseudonyms:
        assert f'<code class="ltr">{person}</code>' in page
    for address in emails():
        assert address.encode() not in record and address not in page
    assert "private/pseudonyms.csv" in page

    selected = panel_file(browser, run, tmp_path / "panel")
    cli = run_cli(
        ["groups", "--panel", selected, "--tables", "4", "--rounds", "2",
         "--balance", "gender,age", "--id-column", "email",
         "--pseudonym-key", folder_of(data, project) / KEY_FILE,
         "--seed", "world-cafe-2026", "--out", tmp_path / "cli"]
    )  # fmt: skip
    same_as_the_command(browser, seating, cli, tmp_path / "cli")
    assert set(panel_ids(tmp_path / "cli" / "groups.csv")) == set(panel_ids(selected, "email"))
    assert "Every check passed." in browser.get(f"{seating}/verify").text


@pytest.mark.parametrize(
    ("form", "files", "message"),
    [
        ({"size": ""}, {}, "the people a table must be a whole number of 1 or more"),
        ({"layout": "tables", "tables": "0"}, {}, "the number of tables must be a whole number"),
        ({"layout": "tables", "tables": "30"}, {}, "more tables than the panel&#39;s 20 people"),
        ({"rounds": "zero"}, {}, "the number of rounds must be a whole number from 1 to 1,000"),
        ({"seed": ""}, {}, "enter the seed"),
        ({"builds_on": "7"}, {}, "choose the draw or the replacement round to build on"),
        ({"balance": ["colour"]}, {}, "choose the columns among those of the panel"),
        ({"apart": ["gender"]}, {}, "people share a value"),
        ({}, {"fixed_file": ("pins.csv", b"id,table\nEV-0000,9\n", "text/csv")}, "pins.csv"),
        ({}, {"together_file": ("pairs.txt", b"a,b\n", "text/plain")}, "pairs.txt: choose a CSV"),
    ],
)
def test_a_bad_request_is_explained_and_writes_nothing(
    tmp_path: Path, form: dict[str, object], files: dict[str, object], message: str
) -> None:
    data = tmp_path / "data"
    browser = client(data)
    project, _run, _panel, _record = drawn_panel(browser, tmp_path)
    before = project_runs(data, project)
    response = browser.post(
        f"{project}/groups", data=groups_form(**form), files=files, follow_redirects=False
    )
    assert response.status_code == 400, response.text
    problems = response.text.split('id="groups-problems"', 1)[1].split("</div>", 1)[0]
    assert message in problems
    assert "Traceback" not in response.text and 'id="groups-form"' in response.text
    assert project_runs(data, project) == before
    assert not [p for p in folder_of(data, project).iterdir() if p.name.startswith("tmp")]


def test_no_panel_yet_sends_the_organiser_to_draw(tmp_path: Path) -> None:
    browser = client(tmp_path / "data")
    project = new_project(browser)
    page = browser.get(f"{project}/groups").text
    assert 'id="no-panel"' in page and 'id="groups-form"' not in page
    response = browser.post(f"{project}/groups", data=groups_form(), follow_redirects=False)
    assert response.status_code == 400 and 'id="no-panel"' in response.text


def test_a_replacement_rounds_panel_is_seated(tmp_path: Path) -> None:
    """Two members drop out and are replaced: Seat at tables offers the round, and seats its new
    panel (the members who stay and the replacements), read as the draw read the pool."""
    browser = client(tmp_path / "data")
    project, _run, panel, _record = drawn_panel(browser, tmp_path)
    replaced = started(
        browser.post(
            f"{project}/replace",
            data=replace_form("1", panel[:2]),
            follow_redirects=False,
        )
    )
    assert finish(browser, replaced)["state"] == "done"
    page = browser.get(f"{project}/groups").text
    assert 'id="builds-on-2"' in page and "Replacements 2 (round 1)" in page
    form = groups_form(builds_on="2", name_column="")
    seating = started(browser.post(f"{project}/groups", data=form, follow_redirects=False))
    assert finish(browser, seating, seconds=300)["state"] == "done"
    assert "builds on Replacements 2" in browser.get(seating).text
    record = json.loads(browser.get(f"{seating}/files/groups.json").content)
    new_panel = panel_ids(panel_file(browser, replaced, tmp_path / "round1"))
    assert sorted(record["panel"]["ids"]) == sorted(new_panel)
    assert not set(panel[:2]) & set(record["panel"]["ids"])
    assert "Every check passed." in browser.get(f"{seating}/verify").text
