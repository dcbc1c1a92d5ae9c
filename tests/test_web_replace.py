"""The page's replacement rounds (``sortition replace``, docs/dropouts.md) through its HTTP
interface, as an organiser uses it: draw a panel of the bundled example, then replace dropouts
in one step or in two (commit, publish the SHA-256, draw with the seed), build a second round on
the first, verify the records; and bad lists of dropouts explained beside the form, with
nothing written."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient

import sortition
from tests.helpers import EXAMPLE, run_cli
from tests.test_web import client, finish, new_project, start_draw, upload_example

POOL = EXAMPLE / "pool.csv"
FILES = ("selected.csv", "remaining.csv", "probabilities.csv", "replacement.json")


def drawn_panel(browser: TestClient, tmp_path: Path) -> tuple[str, str, list[str], Path]:
    """A project with the example's panel drawn: its address, the draw's, the panel's ids and
    the record as downloaded."""
    project = new_project(browser)
    upload_example(browser, project)
    run = start_draw(browser, project)
    assert finish(browser, run)["state"] == "done"
    record = tmp_path / "panel" / "record.json"
    record.parent.mkdir()
    record.write_bytes(browser.get(f"{run}/files/record.json").content)
    return project, run, list(json.loads(record.read_bytes())["panel"]), record


def outsider(panel: list[str]) -> str:
    """Someone of the pool who is not on the panel."""
    ids = [line.split(",", 1)[0] for line in POOL.read_text(encoding="utf-8").splitlines()[1:]]
    return next(person for person in ids if person not in panel)


def replace_form(builds_on: str, members: list[str], **more: str) -> dict[str, str]:
    form = {"builds_on": builds_on, "algorithm": "leximin", "dropouts": "\n".join(members)}
    form.update(seed_kind="dice", seed="6,2,3,4,1")
    form.update(more)
    return form


def started(response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"]


def project_runs(data: Path, project: str) -> list[str]:
    return sorted(p.name for p in (data / project.rsplit("/", 1)[-1] / "runs").iterdir())


def test_replace_in_one_step_writes_what_the_command_writes(tmp_path: Path) -> None:
    """Dropouts typed, the declined in an uploaded file, dice: the page shows the round, the
    dropouts and the replacements; its downloads are byte for byte what ``sortition replace``
    writes; verify passes; a second round builds on the first and verifies back to the draw."""
    data = tmp_path / "data"
    browser = client(data)
    project, _run, panel, record = drawn_panel(browser, tmp_path)
    assert 'id="to-replace"' in browser.get(project).text
    page = browser.get(f"{project}/replace").text
    assert 'id="replace-form"' in page and 'id="builds-on-1"' in page
    dropouts, declined = panel[:3], outsider(panel)
    response = browser.post(
        f"{project}/replace",
        data=replace_form("1", [], dropouts=f"# told us on Monday\n{dropouts[2]}"),
        files={
            "dropouts_file": ("dropouts.txt", "\n".join(dropouts[:2]).encode(), "text/plain"),
            "unavailable_file": ("declined.txt", f"{declined}\n".encode(), "text/plain"),
        },
        follow_redirects=False,
    )
    first = started(response)
    assert finish(browser, first)["state"] == "done"
    page = browser.get(first).text
    assert "Replacements 2" in page and "round 1, 3 dropouts, builds on Draw 1" in page
    assert "Done: 3 replacements drawn." in page
    written = json.loads(browser.get(f"{first}/files/replacement.json").content)
    for person in dropouts + written["replacements"]:
        assert f'<code class="ltr">{person}</code>' in page
    item = page.split("/files/replacement.json", 1)[1].split("</li>", 1)[0]
    assert "may be published" in item
    item = page.split("/files/probabilities.csv", 1)[1].split("</li>", 1)[0]
    assert "private: keep it to yourself" in item

    (tmp_path / "dropouts.txt").write_text("\n".join(dropouts) + "\n", encoding="utf-8")
    (tmp_path / "declined.txt").write_text(f"{declined}\n", encoding="utf-8")
    base = ["replace", "--record", record, "--pool", POOL, "--dice", "6,2,3,4,1"]
    cli = run_cli(
        [
            *base,
            "--dropouts",
            tmp_path / "dropouts.txt",
            "--unavailable",
            tmp_path / "declined.txt",
            "--out",
            tmp_path / "round1",
        ]
    )
    assert cli.exit_code == 0, cli.stderr
    for name in FILES:
        got = browser.get(f"{first}/files/{name}").content
        assert got == (tmp_path / "round1" / name).read_bytes(), name
    assert "Every check passed." in browser.get(f"{first}/verify").text

    # A week later one of the replacements drops out too: round 2 builds on round 1.
    page = browser.get(f"{project}/replace").text
    assert "Replacements 2 (round 1)" in page
    again = written["replacements"][0]
    second = started(
        browser.post(
            f"{project}/replace",
            data=replace_form("2", [again], seed_kind="text", seed="round two"),
            follow_redirects=False,
        )
    )
    assert finish(browser, second)["state"] == "done"
    page = browser.get(second).text
    assert "round 2, 1 dropout, builds on Replacements 2" in page
    assert "Done: 1 replacement drawn." in page
    round2 = json.loads(browser.get(f"{second}/files/replacement.json").content)
    assert round2["round"] == 2 and round2["previous"] == written
    checked = browser.get(f"{second}/verify").text
    assert "Every check passed." in checked and "round 1: builds on" in checked
    listing = browser.get(project).text
    assert "Replacements 3" in listing and "round 2, 1 dropout" in listing


def test_commit_then_draw_the_replacements(tmp_path: Path) -> None:
    """Step 1 fixes the round and shows the SHA-256 of commitment.json, which is what
    ``replace --commit-only`` writes; step 2 with the dice writes what ``replace`` with the same
    dice writes; verify passes."""
    browser = client(tmp_path / "data")
    project, _run, panel, record = drawn_panel(browser, tmp_path)
    dropouts = panel[-2:]
    response = browser.post(
        f"{project}/replace/commit",
        data=replace_form("1", dropouts, seed=""),
        follow_redirects=False,
    )
    run = started(response)
    assert finish(browser, run)["state"] == "committed"
    page = browser.get(run).text
    commitment = browser.get(f"{run}/files/commitment.json").content
    digest = hashlib.sha256(commitment).hexdigest()
    assert f'id="digest">{digest}<' in page
    assert "published: waiting for the seed" in browser.get(project).text

    (tmp_path / "dropouts.txt").write_text("\n".join(dropouts) + "\n", encoding="utf-8")
    base = ["replace", "--record", record, "--pool", POOL, "--dropouts", tmp_path / "dropouts.txt"]
    cli = run_cli([*base, "--commit-only", "--out", tmp_path / "c1"])
    assert cli.exit_code == 0, cli.stderr
    assert commitment == (tmp_path / "c1" / "commitment.json").read_bytes()
    assert digest in cli.stdout

    bad = browser.post(f"{run}/draw", data={"seed_kind": "dice", "seed": "7,x"})
    assert bad.status_code == 400 and 'id="seed-problems"' in bad.text
    drawn = browser.post(f"{run}/draw", data={"seed_kind": "dice", "seed": "5,5,2,1,6"})
    assert drawn.status_code == 200 and 'id="done"' in drawn.text
    assert "Done: 2 replacements drawn." in drawn.text
    cli = run_cli([*base, "--dice", "5,5,2,1,6", "--out", tmp_path / "r1"])
    assert cli.exit_code == 0, cli.stderr
    for name in FILES:
        assert browser.get(f"{run}/files/{name}").content == (tmp_path / "r1" / name).read_bytes()
    replacement = json.loads(browser.get(f"{run}/files/replacement.json").content)
    assert replacement["commitment"]["sha256"] == digest
    assert "Every check passed." in browser.get(f"{run}/verify").text


def test_bad_lists_are_explained_and_nothing_is_written(tmp_path: Path) -> None:
    """A dropout not on the panel, a list that is not UTF-8 text, a file of another kind, no
    dropouts, no seed, no draw to build on: each explained beside the form (400, the file or
    typed list and the line named), no traceback, no run started, no scratch file left."""
    data = tmp_path / "data"
    browser = client(data)
    empty = new_project(browser)
    page = browser.get(f"{empty}/replace").text
    assert 'id="no-panel"' in page and 'id="replace-form"' not in page
    refused = browser.post(f"{empty}/replace", data=replace_form("1", ["EV-0001"]))
    assert refused.status_code == 400
    assert "choose the draw or the replacement round to build on" in refused.text

    project, _run, panel, _record = drawn_panel(browser, tmp_path)
    before = project_runs(data, project)
    stranger = outsider(panel)
    cases = [
        (
            replace_form("1", [panel[0], stranger]),
            {},
            [f"dropouts (typed), row 2: dropout &#39;{stranger}&#39; is in the pool but not on"],
        ),
        (
            replace_form("1", []),
            {"dropouts_file": ("dropouts.txt", b"\xff\xfeE\x00V\x00", "text/plain")},
            ["dropouts.txt: is not UTF-8 text"],
        ),
        (
            replace_form("1", [panel[0]]),
            {"unavailable_file": ("declined.xlsx", b"PK\x03\x04", "application/zip")},
            ["declined.xlsx: choose a text file (.txt or .csv) with one id a line"],
        ),
        (replace_form("1", []), {}, ["no dropouts given: a replacement needs at least one"]),
        (replace_form("1", [panel[0]], seed=""), {}, ["enter the seed"]),
        (replace_form("9", [panel[0]]), {}, ["choose the draw or the replacement round"]),
    ]
    for form, files, messages in cases:
        response = browser.post(f"{project}/replace", data=form, files=files or None)
        assert response.status_code == 400, messages
        assert 'id="replace-problems"' in response.text and "Traceback" not in response.text
        for message in messages:
            assert message in response.text, response.text.split('id="replace-problems"')[1]
        assert form["dropouts"] in response.text  # the typed list is shown again
    commit = browser.post(f"{project}/replace/commit", data=replace_form("1", [stranger]))
    assert commit.status_code == 400 and "not on the current panel" in commit.text
    assert project_runs(data, project) == before
    folder = data / project.rsplit("/", 1)[-1]
    assert sorted(p.name for p in folder.iterdir()) == ["inputs", "project.json", "runs"]


def test_replacements_with_pseudonyms(tmp_path: Path) -> None:
    """E-mail ids: the project's key is used for the round as for the draw. The dropouts are
    given by e-mail; replacement.json and the page name nobody by e-mail; the record verifies
    with the key; private/pseudonyms.csv is marked private."""
    data = tmp_path / "data"
    browser = client(data)
    project = new_project(browser)
    response = browser.post(
        f"{project}/inputs",
        files={"pool": ("pool.csv", POOL.read_bytes(), "text/csv")}
        | {"quotas": ("quotas.csv", (EXAMPLE / "quotas.csv").read_bytes(), "text/csv")},
        data={"k": "20", "household_columns": "address,postcode", "id_column": "email"},
    )
    assert 'id="key-made"' in response.text
    # a fixed key instead of the page's fresh one, so that the panel and its round do not change
    # from run to run (with a fresh key about one run in 20 ended with the round failed)
    key = data / project.rsplit("/", 1)[-1] / ".pseudonym.key"
    key.write_bytes(bytes(range(32)))
    run = start_draw(browser, project)
    assert finish(browser, run)["state"] == "done"
    selected = csv.DictReader(io.StringIO(browser.get(f"{run}/files/selected.csv").text))
    emails = [row["email"] for row in itertools.islice(selected, 2)]
    replaced = started(
        browser.post(f"{project}/replace", data=replace_form("1", emails), follow_redirects=False)
    )
    assert finish(browser, replaced)["state"] == "done"
    page = browser.get(replaced).text
    assert "Done: 2 replacements drawn." in page and "@example.net" not in page
    record = browser.get(f"{replaced}/files/replacement.json").content
    assert b"@example.net" not in record
    item = page.split("/files/pseudonyms.csv", 1)[1].split("</li>", 1)[0]
    assert "private: keep it to yourself" in item
    assert "Every check passed." in browser.get(f"{replaced}/verify").text
    (tmp_path / "replacement.json").write_bytes(record)
    report = sortition.verify_record(tmp_path / "replacement.json", POOL, pseudonym_key=key)
    assert report.ok


def test_the_replace_page_in_hebrew(tmp_path: Path) -> None:
    browser = client(tmp_path / "data")
    project, _run, _panel, _record = drawn_panel(browser, tmp_path)
    page = browser.get(f"{project}/replace?lang=he").text
    assert 'dir="rtl"' in page and "Replace dropouts" not in page
    assert 'id="dropouts" name="dropouts" rows="4" dir="ltr"' in page


def test_replacements_the_quotas_do_not_allow_fail_with_advice(tmp_path: Path) -> None:
    """A member of 65+ drops out (the example's quota of 65+ is exactly 4) and every other
    volunteer of 65+ has declined: the round fails on its page with replace's reasons and the
    smallest change of the original quotas, and writes nothing."""
    data = tmp_path / "data"
    browser = client(data)
    project, _run, panel, _record = drawn_panel(browser, tmp_path)
    rows = POOL.read_text(encoding="utf-8").splitlines()[1:]
    older = [row.split(",", 1)[0] for row in rows if ",65+," in row]
    leaving = next(person for person in older if person in panel)
    declined = "\n".join(person for person in older if person not in panel)
    run = started(
        browser.post(
            f"{project}/replace",
            data=replace_form("1", [leaving], unavailable=declined),
            follow_redirects=False,
        )
    )
    assert finish(browser, run)["state"] == "failed"
    page = browser.get(run).text
    assert 'id="failed"' in page and "Traceback" not in page
    assert "no 1 of the" in page and "meet the quotas left by the 19 members who stay" in page
    assert "age 65+: lower min from 4 to 3" in page
    assert not (data / project.rsplit("/", 1)[-1] / "runs" / run.rsplit("/", 1)[-1]).exists()


def project_files(data: Path, project: str) -> dict[str, bytes]:
    """Every file of the project's folder, by its path in the folder, with its bytes."""
    folder = data / project.rsplit("/", 1)[-1]
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def upload_pool(browser: TestClient, project: str, content: bytes) -> None:
    """The project's pool uploaded again (the quotas, k and the household rule kept)."""
    response = browser.post(
        f"{project}/inputs",
        files={"pool": ("pool.csv", content, "text/csv")},
        data={"k": "20", "household_columns": "address,postcode"},
    )
    assert response.status_code == 200, response.text


def moved_pool(panel: list[str]) -> bytes:
    """The example's pool with one volunteer off the panel moved to another area: what an
    organiser uploads after correcting a row."""
    rows = list(csv.DictReader(io.StringIO(POOL.read_text(encoding="utf-8"))))
    person = next(row for row in rows if row["id"] not in panel)
    person["area"] = "Old Town" if person["area"] != "Old Town" else "Riverside"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


POOL_SINCE = "This needs the pool file the panel was drawn from"


def test_a_pool_uploaded_again_is_refused_beside_the_form(tmp_path: Path) -> None:
    """The project's pool uploaded again after the draw (a volunteer moved area): a round on
    that draw, in one step or committed first, is refused beside the form (400, the pool file
    named with replace's message, what to do), in Hebrew too; no run numbered, no file of the
    project changed. The pool as it was, uploaded back, makes the round possible again."""
    data = tmp_path / "data"
    browser = client(data)
    project, _run, panel, _record = drawn_panel(browser, tmp_path)
    upload_pool(browser, project, moved_pool(panel))
    before = project_files(data, project)
    for path in ("replace", "replace/commit"):
        response = browser.post(f"{project}/{path}", data=replace_form("1", panel[:3]))
        assert response.status_code == 400, path
        problems = response.text.split('id="replace-problems"', 1)[1].split("</ul>", 1)[0]
        assert "pool.csv: is not the pool the panel was drawn from (canonical digest" in problems
        assert POOL_SINCE in problems and "Traceback" not in response.text
    hebrew = browser.post(f"{project}/replace?lang=he", data=replace_form("1", panel[:3]))
    assert hebrew.status_code == 400
    problems = hebrew.text.split('id="replace-problems"', 1)[1].split("</ul>", 1)[0]
    assert "pool.csv: אינו המאגר שממנו הוגרל הפאנל" in problems
    assert POOL_SINCE not in problems and "pool" not in problems.replace("pool.csv", "")
    assert project_files(data, project) == before

    upload_pool(browser, project, POOL.read_bytes())
    run = started(
        browser.post(
            f"{project}/replace?lang=en", data=replace_form("1", panel[:3]), follow_redirects=False
        )
    )
    assert finish(browser, run)["state"] == "done"


def test_fewer_candidates_left_than_dropouts_is_refused_beside_the_form(tmp_path: Path) -> None:
    """Three dropouts, and everyone off the panel listed as declined: no candidate is left, a
    count that needs no solver (``sortition.check_round``), so the round is refused beside the
    form with replace's reason and advice (400, in Hebrew too), no run numbered, nothing
    written."""
    data = tmp_path / "data"
    browser = client(data)
    project, _run, panel, _record = drawn_panel(browser, tmp_path)
    ids = [line.split(",", 1)[0] for line in POOL.read_text(encoding="utf-8").splitlines()[1:]]
    declined = "\n".join(person for person in ids if person not in panel)
    before = project_files(data, project)
    for lang, words in (
        ("en", ["3 dropouts to replace, but only 0 candidates", "no change of the quotas can"]),
        ("he", ["3 פורשים להחליף", "שום שינוי במכסות"]),
    ):
        response = browser.post(
            f"{project}/replace?lang={lang}",
            data=replace_form("1", panel[:3], unavailable=declined),
        )
        assert response.status_code == 400 and "Traceback" not in response.text
        problems = response.text.split('id="replace-problems"', 1)[1].split("</ul>", 1)[0]
        assert all(word in problems for word in words), problems
    assert project_files(data, project) == before
