"""The page for organisers (sortition/web) through its HTTP interface, as a browser uses it:
projects, uploads and their messages, the quota table and feasibility, draws in the background,
cancel, downloads, verification, isolation between browsers, the token and the host check.
The browser tests (tests/test_web_browser.py) drive the same page in Chromium."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from sortition_cli.main import cli
from sortition_cli.serve import is_local

from sortition.synthetic.pools import PRESETS, generate_instance, write_instance
from sortition.web import app as web_app
from sortition.web.app import create_app
from sortition.web.projects import safe_file_name
from tests.helpers import EXAMPLE, run_cli, runnable_instance, sortition_command

LOCAL = "http://127.0.0.1"


def client(data: Path, **options: object) -> TestClient:
    return TestClient(create_app(data, **options), base_url=LOCAL)  # type: ignore[arg-type]


def example_files(pool: Path = EXAMPLE / "pool.csv", quotas: Path = EXAMPLE / "quotas.csv"):
    return {
        "pool": (pool.name, pool.read_bytes(), "text/csv"),
        "quotas": (quotas.name, quotas.read_bytes(), "text/csv"),
    }


def new_project(browser: TestClient, name: str = "Elmbridge Vale") -> str:
    response = browser.post("/projects", data={"name": name}, follow_redirects=False)
    assert response.status_code == 303
    return response.headers["location"]


def upload_example(browser: TestClient, project: str, k: str = "20") -> str:
    response = browser.post(
        f"{project}/inputs",
        files=example_files(),
        data={"k": k, "household_columns": "address,postcode"},
    )
    assert response.status_code == 200, response.text
    return response.text


def finish(browser: TestClient, run: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = browser.get(f"{run}/status").json()
        if status["finished"]:
            return status
        time.sleep(0.2)
    raise AssertionError(f"the run did not finish in {seconds} s")


def start_draw(browser: TestClient, project: str, **form: str) -> str:
    data = {"algorithm": "leximin", "households": "1", "seed_kind": "dice", "seed": "3,6,1,4,2"}
    data.update(form)
    response = browser.post(f"{project}/draw", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_the_whole_workflow_matches_the_api(tmp_path: Path) -> None:
    """Create, upload, check, draw with LEXIMIN, download, verify: the downloads are byte for
    byte what the public API writes for the same inputs and seed."""
    import sortition

    browser = client(tmp_path / "data")
    project = new_project(browser)
    page = upload_example(browser, project)
    assert 'id="quota-table"' in page and "Kestrel Hill" in page
    assert "Feasible:" in page and "a panel of 20 meets every quota." in page
    run = start_draw(browser, project)
    assert finish(browser, run)["state"] == "done"
    page = browser.get(run).text
    assert "Done: 20 people selected." in page
    for name in ("selected.csv", "remaining.csv", "probabilities.csv", "record.json"):
        assert f"/files/{name}" in page

    loaded = sortition.load(
        EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, household_columns=["address", "postcode"]
    )
    expected = sortition.select(loaded, "leximin", sortition.seed_from_dice("3,6,1,4,2"))
    sortition.write_selection(expected, tmp_path / "api")
    for name in ("selected.csv", "remaining.csv", "probabilities.csv", "record.json"):
        download = browser.get(f"{run}/files/{name}")
        assert download.status_code == 200
        assert download.content == (tmp_path / "api" / name).read_bytes(), name
        assert "attachment" in download.headers["content-disposition"]

    checked = browser.get(f"{run}/verify").text
    assert "Every check passed." in checked and "✗" not in checked

    record = browser.get(f"{run}/files/record.json").content
    verified = browser.post(
        "/verify",
        files={"record": ("record.json", record, "application/json"), **example_files()},
    )
    assert verified.status_code == 200 and "Every check passed." in verified.text
    assert list((tmp_path / "data" / ".verify").iterdir()) == []  # the uploads are gone


def test_a_changed_record_fails_verification(tmp_path: Path) -> None:
    browser = client(tmp_path)
    project = new_project(browser)
    upload_example(browser, project)
    run = finish_run(browser, project)
    record = json.loads(browser.get(f"{run}/files/record.json").content)
    record["seed"]["value"] = "another seed"
    page = browser.post(
        "/verify",
        files={"record": ("record.json", json.dumps(record).encode(), "application/json")},
    ).text
    assert "Some checks failed" in page and "✗" in page


def finish_run(browser: TestClient, project: str, **form: str) -> str:
    run = start_draw(browser, project, **form)
    assert finish(browser, run)["state"] == "done"
    return run


def test_a_bad_pool_shows_the_clis_message_and_keeps_nothing(tmp_path: Path) -> None:
    rows = (EXAMPLE / "pool.csv").read_text(encoding="utf-8").splitlines()
    rows[5] = rows[5].replace(",female,", ",femal,").replace(",male,", ",mal,")
    bad = tmp_path / "bad pool.csv"
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    cli_result = run_cli(
        ["check", "--pool", str(bad), "--quotas", str(EXAMPLE / "quotas.csv"), "-k", "20"]
    )
    assert cli_result.exit_code == 2
    cli_lines = [line.strip() for line in cli_result.stderr.splitlines() if "row 6" in line]
    assert cli_lines

    browser = client(tmp_path / "data")
    project = new_project(browser)
    response = browser.post(f"{project}/inputs", files=example_files(pool=bad), data={"k": "20"})
    assert response.status_code == 400
    assert 'id="upload-problems"' in response.text
    for line in cli_lines:  # the same file, row, column and words as the command line
        assert line.replace("'", "&#39;") in response.text
    settings = json.loads((tmp_path / "data" / project.split("/")[-1] / "project.json").read_text())
    assert settings["pool"] is None and settings["quotas"] is None


def test_uploads_are_checked_for_kind_and_size(tmp_path: Path, monkeypatch) -> None:
    browser = client(tmp_path)
    project = new_project(browser)
    response = browser.post(
        f"{project}/inputs",
        files={"pool": ("pool.exe", b"MZ", "application/octet-stream")},
        data={"k": "20"},
    )
    assert response.status_code == 400
    assert "choose a CSV (.csv) or Excel (.xlsx) file" in response.text
    monkeypatch.setattr(web_app, "MAX_UPLOAD", 1000)
    response = browser.post(f"{project}/inputs", files=example_files(), data={"k": "20"})
    assert response.status_code == 400 and "the file is larger than" in response.text
    response = browser.post(f"{project}/inputs", data={"k": "zero"})
    assert "the panel size k must be a whole number of 1 or more" in response.text


def test_body_over_the_limit_is_refused(tmp_path: Path) -> None:
    browser = client(tmp_path)
    project = new_project(browser)
    response = browser.post(
        f"{project}/inputs",
        content=b"x",
        headers={"content-length": str(web_app.MAX_BODY + 1), "content-type": "text/plain"},
    )
    assert response.status_code == 413


def test_infeasible_quotas_show_the_advice(tmp_path: Path) -> None:
    quotas = (EXAMPLE / "quotas.csv").read_text(encoding="utf-8")
    quotas = quotas.replace("gender,female,10,11", "gender,female,15,16")
    path = tmp_path / "quotas.csv"
    path.write_text(quotas, encoding="utf-8")
    browser = client(tmp_path / "data")
    project = new_project(browser)
    page = browser.post(
        f"{project}/inputs", files=example_files(quotas=path), data={"k": "20"}
    ).text
    assert "The quotas cannot be met." in page and 'id="advice"' in page


def test_names_are_kept_as_written_and_paths_are_dropped() -> None:
    assert safe_file_name("C:\\Users\\x\\מאגר.csv") == "מאגר.csv"
    assert safe_file_name("../../etc/passwd") is None
    assert safe_file_name("../quotas.xlsx") == "quotas.xlsx"
    assert safe_file_name(".csv") is None
    assert safe_file_name("pool.CSV") == "pool.CSV"


def test_two_browsers_never_see_each_others_projects(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    first, second = TestClient(app, base_url=LOCAL), TestClient(app, base_url=LOCAL)
    project = new_project(first, "Alpha project")
    upload_example(first, project)
    run = finish_run(first, project)
    assert "Alpha project" in first.get("/").text
    assert "Alpha project" not in second.get("/").text
    for path in (project, f"{project}/draw", run, f"{run}/files/record.json", f"{run}/verify"):
        assert second.get(path).status_code == 404, path
    assert second.post(f"{project}/delete").status_code == 404
    assert second.get(f"{run}/status").status_code == 404
    assert first.get(f"{run}/files/record.json").status_code == 200


def test_delete_erases_the_project(tmp_path: Path) -> None:
    browser = client(tmp_path)
    project = new_project(browser)
    upload_example(browser, project)
    folder = tmp_path / project.split("/")[-1]
    assert (folder / "inputs" / "pool" / "pool.csv").is_file()
    response = browser.post(f"{project}/delete", follow_redirects=False)
    assert response.status_code == 303 and not folder.exists()
    assert browser.get(project).status_code == 404


def test_downloads_only_name_files_a_run_wrote(tmp_path: Path) -> None:
    browser = client(tmp_path)
    project = new_project(browser)
    upload_example(browser, project)
    run = finish_run(browser, project)
    for name in (".sortition-output", "..%2Fproject.json", "project.json", "%2E%2E%2Fx.json"):
        assert browser.get(f"{run}/files/{name}").status_code == 404, name
    assert browser.get(f"{project}/runs/..%2F..%2F/files/project.json").status_code == 404


def long_instance(folder: Path) -> tuple[Path, Path]:
    folder.mkdir()
    instance = generate_instance(3000, 150, PRESETS["realistic10"], "web-cancel")
    return write_instance(instance, folder)


def test_cancel_stops_a_long_run_and_writes_nothing(tmp_path: Path) -> None:
    pool, quotas = long_instance(tmp_path / "big")
    browser = client(tmp_path / "data")
    project = new_project(browser)
    response = browser.post(
        f"{project}/inputs", files=example_files(pool, quotas), data={"k": "150"}
    )
    assert response.status_code == 200, response.text
    run = start_draw(browser, project, seed_kind="text", seed="cancel me")
    deadline = time.monotonic() + 60
    while browser.get(f"{run}/status").json()["state"] != "running":
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.1)
    time.sleep(1.5)  # well inside the computation (it takes minutes)
    asked = time.monotonic()
    browser.post(f"{run}/cancel")
    status = finish(browser, run, seconds=30)
    assert status["state"] == "cancelled"
    assert time.monotonic() - asked < 20
    assert "Cancelled: nothing was written." in browser.get(run).text
    folder = tmp_path / "data" / project.split("/")[-1] / "runs"
    assert not (folder / "1").exists() and (folder / "1.json").is_file()


def test_a_long_run_does_not_block_another_browser(tmp_path: Path) -> None:
    """While one browser's long run computes, another's pages answer and its short draw
    finishes."""
    pool, quotas = long_instance(tmp_path / "big")
    app = create_app(tmp_path / "data")
    slow, quick = TestClient(app, base_url=LOCAL), TestClient(app, base_url=LOCAL)
    long_project = new_project(slow)
    slow.post(f"{long_project}/inputs", files=example_files(pool, quotas), data={"k": "150"})
    long_run = start_draw(slow, long_project, seed_kind="text", seed="long")
    try:
        project = new_project(quick)
        upload_example(quick, project)
        run = finish_run(quick, project)
        assert "Done: 20 people selected." in quick.get(run).text
        assert not slow.get(f"{long_run}/status").json()["finished"]
    finally:
        slow.post(f"{long_run}/cancel")
        finish(slow, long_run, seconds=30)


def test_bad_draw_requests_are_explained(tmp_path: Path) -> None:
    browser = client(tmp_path)
    project = new_project(browser)
    response = browser.post(f"{project}/draw", data={"algorithm": "best", "seed": ""})
    assert response.status_code == 400
    for message in (
        "upload the pool and the quotas, and set k, first",
        "choose one of the algorithms",
        "enter the seed",
    ):
        assert message in response.text
    upload_example(browser, project)
    response = browser.post(f"{project}/draw", data={"seed_kind": "dice", "seed": "x,y"})
    assert response.status_code == 400 and 'id="draw-problems"' in response.text


def test_the_token_is_required_when_set(tmp_path: Path) -> None:
    browser = TestClient(create_app(tmp_path, token="s3cret", local=False), base_url=LOCAL)
    assert browser.get("/").status_code == 403
    assert browser.get("/?token=wrong").status_code == 403
    assert browser.get("/?token=s3cret").status_code == 200
    assert browser.get("/verify").status_code == 200  # the cookie carries it from now on


def test_a_local_page_answers_only_to_localhost(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    assert TestClient(app, base_url="http://localhost:8000").get("/").status_code == 200
    assert TestClient(app, base_url="http://[::1]:8000").get("/").status_code == 200
    assert TestClient(app, base_url="http://attacker.example").get("/").status_code == 400


def test_language_from_switch_cookie_or_browser(tmp_path: Path) -> None:
    browser = client(tmp_path)
    assert 'lang="en" dir="ltr"' in browser.get("/").text
    hebrew = browser.get("/", headers={"accept-language": "he-IL,he;q=0.9,en;q=0.8"}).text
    assert 'lang="he" dir="rtl"' in hebrew and "פרויקטים" in hebrew
    assert 'dir="rtl"' in browser.get("/?lang=he").text
    assert 'dir="rtl"' in browser.get("/verify").text  # remembered
    assert 'dir="ltr"' in browser.get("/?lang=en").text
    fixed = client(tmp_path, default_language="he")
    assert 'dir="rtl"' in fixed.get("/", headers={"accept-language": "en"}).text


def test_no_personal_data_in_the_log(tmp_path: Path, caplog) -> None:
    caplog.set_level("DEBUG")
    browser = client(tmp_path)
    project = new_project(browser)
    upload_example(browser, project)
    finish_run(browser, project)
    text = caplog.text
    for personal in ("EV-0122", "Vikram", "example.net", "Saltings", "3,6,1,4,2"):
        assert personal not in text


def test_serve_options() -> None:
    assert is_local("127.0.0.1") and is_local("localhost") and is_local("::1")
    assert not is_local("0.0.0.0") and not is_local("192.168.1.5")
    result = run_cli(["serve", "--help"])
    assert result.exit_code == 0 and "sortition serve" in (result.stdout + result.stderr)
    assert run_cli(["serve", "--lang", "fr"]).exit_code == 2
    assert run_cli(["serve", "--port", "0"]).exit_code == 2
    assert "serve" in cli.commands


def test_serve_refuses_a_busy_port_and_a_file_as_data(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(["serve", "--port", str(port), "--data", str(tmp_path)])
    assert result.exit_code == 2 and "cannot listen on 127.0.0.1" in (result.stdout + result.stderr)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert run_cli(["serve", "--data", str(a_file)]).exit_code == 2


def commit_run(browser: TestClient, project: str) -> str:
    response = browser.post(
        f"{project}/commit",
        data={"algorithm": "leximin", "households": "1"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    run = response.headers["location"]
    assert finish(browser, run)["state"] == "committed"
    return run


def test_commit_publish_then_draw_matches_the_cli(tmp_path: Path) -> None:
    """Commit, show the SHA-256 to publish, then draw with a beacon pulse: commitment.json and
    the outputs are byte for byte what sortition commit and sortition draw write."""
    browser = client(tmp_path / "data")
    project = new_project(browser)
    upload_example(browser, project)
    run = commit_run(browser, project)
    page = browser.get(run).text
    commitment = browser.get(f"{run}/files/commitment.json").content
    digest = hashlib.sha256(commitment).hexdigest()
    assert f'id="digest">{digest}<' in page
    assert "published: waiting for the seed" in browser.get(project).text

    pool, quotas = EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv"
    base = [
        "--pool",
        pool,
        "--quotas",
        quotas,
        "-k",
        "20",
        "--household-columns",
        "address,postcode",
    ]
    assert run_cli(["commit", *base, "--out", tmp_path / "c"]).exit_code == 0
    assert (tmp_path / "c" / "commitment.json").read_bytes() == commitment

    beacon = json.dumps({"round": 12, "randomness": "0f" * 32}).encode()
    response = browser.post(
        f"{run}/draw",
        data={"seed_kind": "beacon"},
        files={"beacon": ("pulse.json", beacon, "application/json")},
    )
    assert response.status_code == 200 and "Done: 20 people selected." in response.text
    (tmp_path / "pulse.json").write_bytes(beacon)
    cli_draw = run_cli(
        [
            "draw",
            "--commitment",
            tmp_path / "c" / "commitment.json",
            "--beacon",
            tmp_path / "pulse.json",
            "--expect",
            digest,
            "--pool",
            pool,
            "--out",
            tmp_path / "d",
        ]
    )
    assert cli_draw.exit_code == 0, cli_draw.stderr
    for name in ("selected.csv", "remaining.csv", "record.json"):
        assert browser.get(f"{run}/files/{name}").content == (tmp_path / "d" / name).read_bytes()
    assert "Every check passed." in browser.get(f"{run}/verify").text
    again = browser.post(f"{run}/draw", data={"seed_kind": "dice", "seed": "1,2"})
    assert (tmp_path / "d" / "record.json").read_bytes() == browser.get(
        f"{run}/files/record.json"
    ).content  # a second seed never replaces the draw
    assert again.status_code == 200


def test_a_bad_seed_for_the_second_step_is_explained(tmp_path: Path) -> None:
    browser = client(tmp_path)
    project = new_project(browser)
    upload_example(browser, project)
    run = commit_run(browser, project)
    response = browser.post(f"{run}/draw", data={"seed_kind": "dice", "seed": "x"})
    assert response.status_code == 400 and 'id="seed-problems"' in response.text
    response = browser.post(
        f"{run}/draw",
        data={"seed_kind": "beacon"},
        files={"beacon": ("pulse.json", b'{"round": 1}', "application/json")},
    )
    assert response.status_code == 400 and "randomness" in response.text
    assert browser.get(f"{run}/files/record.json").status_code == 404


def test_the_audit_runs_in_the_background_and_shows_its_report(tmp_path: Path) -> None:
    import sortition

    browser = client(tmp_path / "data")
    project = new_project(browser)
    upload_example(browser, project)
    assert 'id="audit-form"' in browser.get(f"{project}/audit").text
    bad = browser.post(f"{project}/audit", data={"draws": "0", "seed": ""})
    assert bad.status_code == 400
    for message in ("choose at least one algorithm", "whole number from 1", "enter a seed"):
        assert message in bad.text
    response = browser.post(
        f"{project}/audit",
        data={
            "algorithms": ["legacy", "leximin"],
            "draws": "300",
            "households": "1",
            "seed": "audit-2025",
        },
        follow_redirects=False,
    )
    run = response.headers["location"]
    assert finish(browser, run, seconds=300)["state"] == "done"
    page = browser.get(run).text
    assert "The audit is done." in page and 'id="report"' in page
    report = browser.get(f"{run}/files/report.html?view=1")
    assert (
        report.status_code == 200
        and "default-src 'none'" in report.headers["content-security-policy"]
    )
    loaded = sortition.load(
        EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, household_columns=["address", "postcode"]
    )
    expected = sortition.run_audit(loaded, ["legacy", "leximin"], "audit-2025", draws=300)
    sortition.write_audit(expected, tmp_path / "api")
    for name in ("probabilities.csv", "inputs.json"):
        assert browser.get(f"{run}/files/{name}").content == (tmp_path / "api" / name).read_bytes()
    assert "Audit 1" in browser.get(project).text


def test_tables_for_excel(tmp_path: Path) -> None:
    """Each CSV of a draw also as a workbook and as a CSV with a byte-order mark; the files on
    disk stay the library's."""
    from openpyxl import load_workbook

    browser = client(tmp_path / "data")
    project = new_project(browser)
    upload_example(browser, project)
    run = finish_run(browser, project)
    page = browser.get(run).text
    assert "selected.xlsx" in page and "selected.csv?excel=1" in page
    original = browser.get(f"{run}/files/selected.csv").content
    excel = browser.get(f"{run}/files/selected.csv?excel=1").content
    assert not original.startswith(b"\xef\xbb\xbf") and excel == b"\xef\xbb\xbf" + original
    workbook = browser.get(f"{run}/files/selected.xlsx")
    assert workbook.status_code == 200
    (tmp_path / "selected.xlsx").write_bytes(workbook.content)
    rows = list(load_workbook(tmp_path / "selected.xlsx").active.iter_rows(values_only=True))
    expected = list(csv.reader(io.StringIO(original.decode("utf-8"))))
    assert [list(r) for r in rows] == expected  # every cell as text, Hebrew names included
    probabilities = browser.get(f"{run}/files/probabilities.xlsx").content
    (tmp_path / "p.xlsx").write_bytes(probabilities)
    sheet = load_workbook(tmp_path / "p.xlsx").active
    assert isinstance(sheet.cell(2, 2).value, float)
    assert browser.get(f"{run}/files/record.xlsx").status_code == 404


def test_a_failed_draw_says_why_even_after_a_restart(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    browser = TestClient(app, base_url=LOCAL)
    project = new_project(browser)
    upload_example(browser, project)
    run = start_draw(browser, project, k="5")  # no panel of 5 meets quotas made for 20
    assert finish(browser, run)["state"] == "failed"
    page = browser.get(run).text
    assert 'id="failed"' in page
    restarted = TestClient(create_app(tmp_path), base_url=LOCAL)
    restarted.cookies = browser.cookies
    again = restarted.get(run).text
    assert 'id="failed"' in again
    assert again.count('<li class="msg">') == page.count('<li class="msg">') > 0


def test_invitation_letters_match_the_cli(tmp_path: Path) -> None:
    from sortition.synthetic.registries import generate_registry, write_registry

    registry = tmp_path / "register.csv"
    write_registry(generate_registry(3000, 3, "web-invite"), registry)
    browser = client(tmp_path / "data")
    project = new_project(browser)
    assert 'id="invite-form"' in browser.get(f"{project}/invite").text
    bad = browser.post(f"{project}/invite", data={"letters": "0", "weights": "north 2", "seed": ""})
    assert bad.status_code == 400
    for message in (
        "choose the registry",
        "the number of letters must be",
        "weights need the column to stratify by",
        "enter the seed",
    ):
        assert message in bad.text
    form = {
        "letters": "300",
        "household_columns": "address,postcode",
        "stratify_by": "area",
        "weights": "area-1: 1.5\narea-3: 0.75",
        "seed_kind": "dice",
        "seed": "4,1,6,2,5",
    }
    response = browser.post(
        f"{project}/invite",
        data=form,
        files={"registry": ("register.csv", registry.read_bytes(), "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    run = response.headers["location"]
    assert finish(browser, run)["state"] == "done"
    assert "Done: the letters are drawn." in browser.get(run).text
    cli_run = run_cli(
        [
            "invite",
            "--registry",
            registry,
            "--letters",
            "300",
            "--household-columns",
            "address,postcode",
            "--stratify-by",
            "area",
            "--weight",
            "area=area-1:1.5",
            "--weight",
            "area=area-3:0.75",
            "--dice",
            "4,1,6,2,5",
            "--out",
            tmp_path / "letters",
        ]
    )
    assert cli_run.exit_code == 0, cli_run.stderr
    for name in ("invitations.csv", "allocation.csv", "record.json"):
        got = browser.get(f"{run}/files/{name}").content
        assert got == (tmp_path / "letters" / name).read_bytes(), name
    assert "Every check passed." in browser.get(f"{run}/verify").text
    assert "Invitations 1" in browser.get(project).text


def mutated(rnd: random.Random, data: bytes) -> bytes:
    """The file with a few bytes replaced, deleted or repeated, or cut short."""
    out = bytearray(data)
    for _ in range(rnd.randint(1, 6)):
        if not out:
            break
        at = rnd.randrange(len(out))
        action = rnd.random()
        if action < 0.4:
            out[at] = rnd.choice(b',\n"\r;x9-\xff\x00 ')
        elif action < 0.7:
            del out[at : at + rnd.randint(1, 40)]
        elif action < 0.9:
            out[at:at] = out[at : at + rnd.randint(1, 40)]
        else:
            del out[at:]
    return bytes(out)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32))
def test_spoiled_uploads_are_refused_cleanly(tmp_path_factory, seed: int) -> None:
    """A spoiled pool or quota file gets a message beside the form (400) or is accepted (200):
    never a server error, and a refused file is never kept."""
    rnd = random.Random(seed)
    browser = client(tmp_path_factory.mktemp("fuzz"))
    project = new_project(browser)
    pool, quotas = (EXAMPLE / "pool.csv").read_bytes(), (EXAMPLE / "quotas.csv").read_bytes()
    if rnd.random() < 0.5:
        pool = mutated(rnd, pool)
    else:
        quotas = mutated(rnd, quotas)
    response = browser.post(
        f"{project}/inputs",
        files={"pool": ("pool.csv", pool, "text/csv"), "quotas": ("quotas.csv", quotas)},
        data={"k": rnd.choice(["20", "20", "3", "500"]), "household_columns": "address,postcode"},
    )
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert 'id="upload-problems"' in response.text
        assert "Traceback" not in response.text
        assert browser.get(project).text.count("Now:") == 0  # nothing kept


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_until_up(args: list[str], url: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [*sortition_command(), "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)
            return process
        except urllib.error.HTTPError:
            return process  # it answers (with a refusal)
        except OSError:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the page did not start"
            time.sleep(0.1)


def test_serve_as_a_user_types_it(tmp_path: Path) -> None:
    """sortition serve: the address printed, localhost only, Ctrl-C stops it (exit 0)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    process = serve_until_up(["--port", str(port), "--data", str(tmp_path / "projects")], url)
    try:
        assert urllib.request.urlopen(url).status == 200
        foreign = urllib.request.Request(url, headers={"Host": "attacker.example"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(foreign)
        assert refused.value.code == 400
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert f"the page is at {url}" in out and "stopped." in out
    assert (tmp_path / "projects").is_dir()


def test_serve_beyond_localhost_needs_the_printed_token(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    process = serve_until_up(["--host", "0.0.0.0", "--port", str(port), "--data", tmp_path], url)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert f"http://0.0.0.0:{port}/?token=" in first
        token = first.split("?token=", 1)[1].split()[0]
        assert len(token) >= 30 and "keep it private" in process.stdout.readline()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url)
        assert refused.value.code == 403
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{url}?token={token[:-1]}")
        assert urllib.request.urlopen(f"{url}?token={token}").status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 0 and "stopped." in out


def test_excel_uploads_are_read_like_csv(tmp_path: Path) -> None:
    from openpyxl import Workbook

    rows = list(csv.reader(io.StringIO((EXAMPLE / "quotas.csv").read_text(encoding="utf-8"))))
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append([int(c) if c.isdigit() else c for c in row])
    book.save(tmp_path / "quotas.xlsx")
    browser = client(tmp_path / "data")
    project = new_project(browser)
    page = browser.post(
        f"{project}/inputs",
        files=example_files(quotas=tmp_path / "quotas.xlsx"),
        data={"k": "20", "household_columns": "address,postcode"},
    ).text
    assert "a panel of 20 meets every quota." in page and "quotas.xlsx" in page


def test_runs_beyond_the_workers_wait_their_turn(tmp_path: Path) -> None:
    """With one worker a second draw waits while the first computes; cancelling the waiting
    one ends it at once, and the first goes on."""
    pool, quotas = long_instance(tmp_path / "big")
    app = create_app(tmp_path / "data", workers=1)
    browser = TestClient(app, base_url=LOCAL)
    project = new_project(browser)
    browser.post(f"{project}/inputs", files=example_files(pool, quotas), data={"k": "150"})
    first = start_draw(browser, project, seed_kind="text", seed="first")
    second = start_draw(browser, project, seed_kind="text", seed="second")
    try:
        time.sleep(1)
        assert browser.get(f"{second}/status").json()["state"] == "waiting"
        assert "Waiting for another draw to finish" in browser.get(second).text
        browser.post(f"{second}/cancel")
        assert browser.get(f"{second}/status").json()["state"] == "cancelled"
        assert browser.get(f"{first}/status").json()["state"] == "running"
    finally:
        browser.post(f"{first}/cancel")
        assert finish(browser, first, seconds=30)["state"] == "cancelled"
    assert finish(browser, second, seconds=30)["state"] == "cancelled"


def test_the_global_lang_is_the_pages_default(tmp_path: Path, monkeypatch) -> None:
    """`sortition --lang he serve` serves the page in Hebrew to a browser that has not chosen;
    serve's own --lang wins over the global one."""
    import uvicorn

    import sortition.web.app as web_app

    chosen: list[str | None] = []

    class App:  # what serve touches of the page's app
        class state:
            class jobs:
                @staticmethod
                def cancel_all() -> None:
                    pass

    def create_app(data, default_language=None, **kwargs):
        chosen.append(default_language)
        return App()

    monkeypatch.setattr(web_app, "create_app", create_app)
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    data = ["--data", str(tmp_path)]
    assert run_cli(["--lang", "he", "serve", *data]).exit_code == 0
    assert run_cli(["--lang", "he", "serve", *data, "--lang", "en"]).exit_code == 0
    assert run_cli(["serve", *data]).exit_code == 0
    assert chosen == ["he", "en", None]


def test_the_draw_page_offers_diversimax_and_a_diversity_bound(tmp_path: Path) -> None:
    """The Draw page lists DIVERSIMAX (its line from the registry's catalogue) and the optional
    diversity fraction; a bad fraction, or one with LEGACY, is explained; a draw with 0.1 writes
    the record the CLI writes (the bound in its distribution)."""
    browser = client(tmp_path)
    project = new_project(browser)
    upload_example(browser, project)
    page = browser.get(f"{project}/draw").text
    assert 'value="diversimax"' in page and 'id="diversity_within"' in page
    for algorithm, fraction, message in (
        ("leximin", "-1", "the diversity fraction must be a number of 0 or more"),
        (
            "legacy",
            "0.1",
            "the diversity fraction applies to LEXIMIN, MAXIMIN, NASH and GOLDILOCKS",
        ),
    ):
        response = browser.post(
            f"{project}/draw",
            data={"algorithm": algorithm, "seed": "s", "diversity_within": fraction},
        )
        assert response.status_code == 400 and message in response.text
    small = runnable_instance("example_small_20")  # the bound makes every search harder
    response = browser.post(
        f"{project}/inputs", files=example_files(small.pool, small.quotas), data={"k": "20"}
    )
    assert response.status_code == 200, response.text
    run = finish_run(browser, project, diversity_within="0.1", households="")
    record = json.loads(browser.get(f"{run}/files/record.json").content)
    assert record["parameters"]["diversity_within"] == 0.1
    assert (
        record["distribution"]["diversity"]["limit"] >= record["distribution"]["diversity"]["best"]
    )
