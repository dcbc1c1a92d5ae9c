"""The page and pseudonym keys (issues #18 and #20): where a project's ids look personal the
page makes a key for the project, draws with it, keeps it out of every download (but the one
the organiser asks for), marks which files may be published, and erases it with the project."""

from __future__ import annotations

import csv
import io
import json
import re
import stat
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient

import sortition
from sortition.privacy.keys import read_key
from sortition.web.projects import KEY_FILE
from tests.helpers import EXAMPLE, run_cli
from tests.test_web import client, example_files, finish, new_project, start_draw

HOUSEHOLDS = "address,postcode"


def emails() -> list[str]:
    with (EXAMPLE / "pool.csv").open(encoding="utf-8", newline="") as rows:
        return [row["email"] for row in csv.DictReader(rows)]


def upload(browser: TestClient, project: str, id_column: str = "email") -> str:
    response = browser.post(
        f"{project}/inputs",
        files=example_files(),
        data={"k": "20", "household_columns": HOUSEHOLDS, "id_column": id_column},
    )
    assert response.status_code == 200, response.text
    return response.text


def folder_of(data: Path, project: str) -> Path:
    return data / project.rsplit("/", 1)[-1]


def draw(browser: TestClient, project: str) -> str:
    run = start_draw(browser, project)
    assert finish(browser, run)["state"] == "done"
    return run


def links(page: str) -> list[str]:
    return re.findall(r'href="(/p/[^"]+)"', page)


def test_personal_ids_get_a_key_and_a_record_that_names_nobody(tmp_path: Path) -> None:
    """E-mail ids: the page makes a key (0600, in the project's folder), says so, and the
    record downloaded holds no e-mail address; it is what the API writes with that key, and
    ``sortition verify --pseudonym-key`` passes with the key downloaded from the page."""
    data = tmp_path / "data"
    browser = client(data)
    project = new_project(browser)
    page = upload(browser, project)
    assert 'id="key-made"' in page and "pseudonym" in page and "Download the key file" in page
    key_path = folder_of(data, project) / KEY_FILE
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert len(key_path.read_bytes()) >= 16

    run = draw(browser, project)
    page = browser.get(run).text
    assert 'id="pseudonymous"' in page
    for name in ("record.json", "distribution.json", "lottery.csv"):
        if f"/files/{name}" in page:
            item = page.split(f"/files/{name}", 1)[1].split("</li>", 1)[0]
            assert "may be published" in item, name
    for name in ("selected.csv", "remaining.csv", "probabilities.csv", "pseudonyms.csv"):
        item = page.split(f"/files/{name}", 1)[1].split("</li>", 1)[0]
        assert "private: keep it to yourself" in item, name
    assert "private/pseudonyms.csv" in page

    record = browser.get(f"{run}/files/record.json").content
    published = [browser.get(f"{run}/files/{n}").content for n in ("record.json", "lottery.csv")]
    for address in emails():
        for content in published:
            assert address.encode() not in content
    table = browser.get(f"{run}/files/pseudonyms.csv").text
    assert emails()[0] in table  # the organiser's own table, marked private

    key = browser.post(f"{project}/key")
    assert key.status_code == 200 and key.content == key_path.read_bytes()
    assert 'filename="pseudonyms.key"' in key.headers["content-disposition"]
    assert key.headers["cache-control"] == "no-store"

    loaded = sortition.load(
        EXAMPLE / "pool.csv",
        EXAMPLE / "quotas.csv",
        20,
        id_column="email",
        household_columns=HOUSEHOLDS.split(","),
        pseudonym_key=read_key(key_path),
    )
    expected = sortition.select(loaded, "leximin", sortition.seed_from_dice("3,6,1,4,2"))
    sortition.write_selection(expected, tmp_path / "api")
    assert record == (tmp_path / "api" / "record.json").read_bytes()
    assert json.loads(record)["inputs"]["pool"]["pseudonyms"]["method"] == "HMAC-SHA256"

    (tmp_path / "record.json").write_bytes(record)
    (tmp_path / "downloaded.key").write_bytes(key.content)
    checked = run_cli(
        [
            "verify",
            tmp_path / "record.json",
            "--pool",
            EXAMPLE / "pool.csv",
            "--quotas",
            EXAMPLE / "quotas.csv",
            "--pseudonym-key",
            tmp_path / "downloaded.key",
        ]
    )
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert "Every check passed." in browser.get(f"{run}/verify").text


def test_the_key_is_no_download(tmp_path: Path) -> None:
    """No GET the page answers, of any link it shows or any name tried, returns the key's
    bytes; the key's own button is a form (POST), not a link."""
    data = tmp_path / "data"
    browser = client(data)
    project = new_project(browser)
    upload(browser, project)
    secret = (folder_of(data, project) / KEY_FILE).read_bytes()
    run = draw(browser, project)
    seen = set()
    pages = [project, run, f"{project}/draw", f"{project}/audit", "/"]
    for url in pages + [u for p in pages for u in links(browser.get(p).text)]:
        if url in seen:
            continue
        seen.add(url)
        response = browser.get(url)
        assert secret not in response.content, url
    for name in (KEY_FILE, "pseudonym.key", "pseudonyms.key", "..%2F..%2F.pseudonym.key"):
        response = browser.get(f"{run}/files/{name}")
        assert response.status_code == 404 and secret not in response.content, name
    assert browser.get(f"{project}/key").status_code == 405
    other = client(data)  # another browser gets nothing
    assert other.post(f"{project}/key").status_code == 404


def test_deleting_the_project_deletes_the_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    browser = client(data)
    project = new_project(browser)
    upload(browser, project)
    key_path = folder_of(data, project) / KEY_FILE
    assert key_path.is_file()
    assert browser.post(f"{project}/delete", follow_redirects=False).status_code == 303
    assert not key_path.exists() and not key_path.parent.exists()


def test_ids_the_organiser_says_are_not_personal_are_used_as_they_are(tmp_path: Path) -> None:
    """The tick is the command's --ids-are-public: the record is the API's without a key;
    taking it back draws with the project's key again."""
    data = tmp_path / "data"
    browser = client(data)
    project = new_project(browser)
    upload(browser, project)
    key_before = (folder_of(data, project) / KEY_FILE).read_bytes()
    page = browser.post(f"{project}/privacy", data={"ids_are_public": "1"}).text
    assert 'id="ids-public"' in page and "Download the key file" not in page
    run = draw(browser, project)
    record = browser.get(f"{run}/files/record.json").content
    assert "private/pseudonyms.csv" not in browser.get(run).text
    loaded = sortition.load(
        EXAMPLE / "pool.csv",
        EXAMPLE / "quotas.csv",
        20,
        id_column="email",
        household_columns=HOUSEHOLDS.split(","),
        ids_are_public=True,
    )
    expected = sortition.select(loaded, "leximin", sortition.seed_from_dice("3,6,1,4,2"))
    sortition.write_selection(expected, tmp_path / "api")
    assert record == (tmp_path / "api" / "record.json").read_bytes()
    assert "Every check passed." in browser.get(f"{run}/verify").text

    page = browser.post(f"{project}/privacy", data={}).text
    assert 'id="key-made"' in page
    assert (folder_of(data, project) / KEY_FILE).read_bytes() == key_before  # never replaced
    again = draw(browser, project)
    assert emails()[0].encode() not in browser.get(f"{again}/files/record.json").content


def test_ids_that_do_not_look_personal_change_nothing(tmp_path: Path) -> None:
    """The example's own ids (EV-0122): no key, no privacy section, and the record is the
    API's without a key (as test_web's whole workflow checks for every download)."""
    data = tmp_path / "data"
    browser = client(data)
    project = new_project(browser)
    page = upload(browser, project, id_column="")
    assert 'id="privacy"' not in page
    assert not (folder_of(data, project) / KEY_FILE).exists()
    assert browser.post(f"{project}/key").status_code == 404
    run = draw(browser, project)
    assert 'id="pseudonymous"' not in browser.get(run).text
    loaded = sortition.load(
        EXAMPLE / "pool.csv",
        EXAMPLE / "quotas.csv",
        20,
        household_columns=HOUSEHOLDS.split(","),
    )
    expected = sortition.select(loaded, "leximin", sortition.seed_from_dice("3,6,1,4,2"))
    sortition.write_selection(expected, tmp_path / "api")
    for name in ("selected.csv", "probabilities.csv", "record.json"):
        assert browser.get(f"{run}/files/{name}").content == (tmp_path / "api" / name).read_bytes()


def test_the_two_step_draw_uses_the_key(tmp_path: Path) -> None:
    """Commit, then draw with dice: commitment.json and the record name nobody, the draw reads
    the pool with the project's key, and the page's verification passes."""
    data = tmp_path / "data"
    browser = client(data)
    project = new_project(browser)
    upload(browser, project)
    response = browser.post(
        f"{project}/commit",
        data={"algorithm": "leximin", "households": "1"},
        follow_redirects=False,
    )
    run = response.headers["location"]
    assert finish(browser, run)["state"] == "committed"
    commitment = browser.get(f"{run}/files/commitment.json").content
    page = browser.post(f"{run}/draw", data={"seed_kind": "dice", "seed": "5,2,6"}).text
    assert "Done: 20 people selected." in page, page
    record = browser.get(f"{run}/files/record.json").content
    for address in emails():
        assert address.encode() not in commitment and address.encode() not in record
    selected = browser.get(f"{run}/files/selected.csv").text
    assert len(list(csv.reader(io.StringIO(selected)))) == 21
    assert "@" in selected  # the organiser's file names the volunteers
    assert "Every check passed." in browser.get(f"{run}/verify").text


def test_the_audit_uses_the_key(tmp_path: Path) -> None:
    """The audit of a keyed project names nobody in its files (all of which may be
    published), and its private/pseudonyms.csv is marked private."""
    data = tmp_path / "data"
    browser = client(data)
    project = new_project(browser)
    upload(browser, project)
    response = browser.post(
        f"{project}/audit",
        data={"algorithms": ["legacy"], "draws": "50", "households": "1", "seed": "audit"},
        follow_redirects=False,
    )
    run = response.headers["location"]
    assert finish(browser, run, seconds=300)["state"] == "done"
    page = browser.get(run).text
    item = page.split("/files/pseudonyms.csv", 1)[1].split("</li>", 1)[0]
    assert "private: keep it to yourself" in item
    for name in ("report.html", "probabilities.csv", "metrics.json", "inputs.json"):
        item = page.split(f"/files/{name}", 1)[1].split("</li>", 1)[0]
        assert "may be published" in item, name
        content = browser.get(f"{run}/files/{name}").content
        for address in emails():
            assert address.encode() not in content, name


def test_the_verify_page_takes_the_key_file(tmp_path: Path) -> None:
    """A keyed record uploaded with its pool: refused without the key (the message says why),
    every check passed with it; the uploaded key is not kept."""
    data = tmp_path / "data"
    browser = client(data)
    project = new_project(browser)
    upload(browser, project)
    run = draw(browser, project)
    record = browser.get(f"{run}/files/record.json").content
    key = browser.post(f"{project}/key").content
    files = {"record": ("record.json", record, "application/json"), **example_files()}
    without = browser.post("/verify", files=files)
    assert without.status_code == 400 and "pseudonyms" in without.text
    checked = browser.post(
        "/verify", files={**files, "key": ("my.key", key, "application/octet-stream")}
    )
    assert checked.status_code == 200 and "Every check passed." in checked.text
    wrong = browser.post(
        "/verify", files={**files, "key": ("my.key", b"x" * 32, "application/octet-stream")}
    )
    assert "Every check passed." not in wrong.text
    assert list((data / ".verify").iterdir()) == []


def test_the_draw_page_publishes_type_counts(tmp_path: Path) -> None:
    """The Draw page's 'Publish type counts only' (``--publish-types --min-type-size``): shown
    for a keyed project, the record downloaded is the API's with the same T, names no e-mail and
    no withheld member, and the page's verification passes; with households it is refused."""
    data = tmp_path / "data"
    browser = client(data)
    project = new_project(browser)
    upload(browser, project)
    page = browser.get(f"{project}/draw").text
    assert 'id="publish-types"' in page and 'id="min-type-size"' in page
    refused = browser.post(
        f"{project}/draw",
        data={
            "algorithm": "leximin",
            "households": "1",
            "seed_kind": "dice",
            "seed": "3,6,1,4,2",
            "publish_types": "1",
            "min_type_size": "3",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 400
    assert "does not go with one person per household" in refused.text
    run = start_draw(browser, project, households="", publish_types="1", min_type_size="3")
    assert finish(browser, run)["state"] == "done"
    shown = browser.get(run)
    assert shown.status_code == 200 and 'id="pseudonymous"' in shown.text
    record = browser.get(f"{run}/files/record.json").content
    for address in emails():
        assert address.encode() not in record
    document = json.loads(record)
    assert document["inputs"]["pool"]["publish_types"]["min_type_size"] == 3
    loaded = sortition.load(
        EXAMPLE / "pool.csv",
        EXAMPLE / "quotas.csv",
        20,
        id_column="email",
        pseudonym_key=read_key(folder_of(data, project) / KEY_FILE),
    )
    expected = sortition.select(
        loaded, "leximin", sortition.seed_from_dice("3,6,1,4,2"), min_type_size=3
    )
    sortition.write_selection(expected, tmp_path / "api")
    assert record == (tmp_path / "api" / "record.json").read_bytes()
    assert "Every check passed." in browser.get(f"{run}/verify").text


def test_the_two_step_draw_publishes_type_counts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    browser = client(data)
    project = new_project(browser)
    upload(browser, project)
    response = browser.post(
        f"{project}/commit",
        data={"algorithm": "leximin", "publish_types": "1", "min_type_size": "4"},
        follow_redirects=False,
    )
    run = response.headers["location"]
    assert finish(browser, run)["state"] == "committed"
    commitment = json.loads(browser.get(f"{run}/files/commitment.json").content)
    assert commitment["inputs"]["pool"]["publish_types"]["min_type_size"] == 4
    page = browser.post(f"{run}/draw", data={"seed_kind": "dice", "seed": "5,2,6"}).text
    assert "Done: 20 people selected." in page, page
    record = browser.get(f"{run}/files/record.json").content
    for address in emails():
        assert address.encode() not in record
    selected = browser.get(f"{run}/files/selected.csv").text
    assert len(list(csv.reader(io.StringIO(selected)))) == 21
    assert "Every check passed." in browser.get(f"{run}/verify").text
