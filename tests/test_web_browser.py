"""The page in a real browser: Playwright (pytest-playwright) driving Debian's Chromium
(/usr/bin/chromium; Playwright's own browser download is not used). Skipped where Chromium or
Playwright is absent; .ci/run installs Chromium, so CI runs them.

With SORTITION_SCREENSHOTS=DIR the workflow tests save the main pages as DIR/<page>-<lang>.png
(scripts/screenshots writes docs/web/ this way).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("playwright")
pytest.importorskip("uvicorn")

import uvicorn

import sortition
from sortition.synthetic.pools import PRESETS, generate_instance, write_instance
from sortition.web.app import create_app
from tests.helpers import EXAMPLE

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (apt-get install chromium)")
POOL, QUOTAS = EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv"
RUN_SECONDS = 120_000  # ms a draw of the example may take, under load


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page on a free local port, in a thread of this process."""
    data = tmp_path_factory.mktemp("web-data")
    config = uvicorn.Config(
        create_app(data), host="127.0.0.1", port=0, log_level="warning", access_log=False
    )
    live = uvicorn.Server(config)
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not live.started:
        assert time.monotonic() < deadline, "the page did not start"
        time.sleep(0.05)
    port = live.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    live.should_exit = True
    thread.join(10)


def screenshot(page, name: str, language: str) -> None:
    folder = os.environ.get("SORTITION_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}-{language}.png"), full_page=True)


def create_project(
    page,
    server: str,
    name: str,
    pool: Path = POOL,
    quotas: Path = QUOTAS,
    k: str = "20",
    households: str = "address,postcode",
) -> None:
    page.goto(server + "/")
    page.fill("#name", name)
    page.click("#create")
    page.set_input_files("#pool", str(pool))
    page.set_input_files("#quotas", str(quotas))
    page.fill("#k", k)
    page.fill("#household_columns", households)
    page.click("#upload-button")


def draw(page, seed: str, kind: str = "text") -> None:
    page.click("#to-draw")
    page.check(f"#seed-{kind}")
    page.fill("#seed", seed)
    page.click("#draw-button")


def download(page, name: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.click(f"a.file:text-is('{name}')")
    path = folder / name
    info.value.save_as(path)
    return path


@pytest.mark.parametrize("language", ["en", "he"])
def test_the_workflow_in_the_browser(browser, server: str, language: str, tmp_path: Path) -> None:
    """Create a project with the bundled example, check, draw with LEXIMIN, download the record
    and verify it, in English and in Hebrew (the browser's own language preference)."""
    context = browser.new_context(
        locale="he-IL" if language == "he" else "en-GB", viewport={"width": 1200, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    create_project(page, server, "Elmbridge Vale" if language == "en" else "אספת תושבים")
    html = page.locator("html")
    assert html.get_attribute("lang") == language
    assert html.get_attribute("dir") == ("rtl" if language == "he" else "ltr")
    assert page.locator("#quota-table tbody tr").count() == 14
    assert page.locator("#verdict.ok").is_visible()
    verdict = "Feasible" if language == "en" else "אפשרי"
    assert verdict in page.inner_text("#verdict")
    screenshot(page, "project", language)

    draw(page, "3,6,1,4,2", kind="dice")
    page.wait_for_selector("#done", timeout=RUN_SECONDS)
    screenshot(page, "run", language)
    record = download(page, "record.json", tmp_path)
    selected = download(page, "selected.csv", tmp_path)

    loaded = sortition.load(POOL, QUOTAS, 20, household_columns=["address", "postcode"])
    expected = sortition.select(loaded, "leximin", sortition.seed_from_dice("3,6,1,4,2"))
    sortition.write_selection(expected, tmp_path / "api")
    assert record.read_bytes() == (tmp_path / "api" / "record.json").read_bytes()
    assert selected.read_bytes() == (tmp_path / "api" / "selected.csv").read_bytes()

    page.goto(server + "/verify")
    page.set_input_files("#record", str(record))
    page.set_input_files("#vpool", str(POOL))
    page.set_input_files("#vquotas", str(QUOTAS))
    page.click("#verify-button")
    page.wait_for_selector("#checklist")
    assert page.locator("#verdict.ok").is_visible()
    assert page.locator("#checklist li.bad").count() == 0
    assert page.locator("#checklist li.ok").count() >= 5
    screenshot(page, "verify", language)

    page.goto(server + "/")
    page.click("a.project")
    page.click("#to-draw")
    screenshot(page, "draw", language)
    context.close()


def test_a_bad_upload_shows_its_message(browser, server: str, tmp_path: Path) -> None:
    rows = POOL.read_text(encoding="utf-8").splitlines()
    rows[5] = rows[5].replace(",female,", ",femal,").replace(",male,", ",mal,")
    bad = tmp_path / "pool.csv"
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    create_project(page, server, "Bad files", pool=bad)
    problems = page.inner_text("#upload-problems")
    assert "pool.csv, row 6, column 'gender'" in problems
    assert page.locator("#quota-table").count() == 0
    context.close()


# The Hebrew run with the slow tests (test_the_workflow_in_the_browser keeps Hebrew in the
# browser by default, tests/test_web_i18n.py this page's Hebrew)
@pytest.mark.parametrize("language", ["en", pytest.param("he", marks=pytest.mark.slow)])
def test_the_advice_says_what_the_page_user_can_do(
    browser, server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    """Quotas no panel meets: the smallest change under its heading; and when the page's 30 s
    pass before it is found (a relaxation that runs out of time), what a page user can do
    instead: the command line that searches longer, on the files as uploaded."""
    from sortition.selection import feasibility
    from tests.test_advice import infeasible_quotas, out_of_time

    quotas = infeasible_quotas(tmp_path)
    context = browser.new_context(locale="he-IL" if language == "he" else "en-GB")
    page = context.new_page()
    page.set_default_timeout(60_000)
    create_project(page, server, "Too many women", quotas=quotas)
    verdict = page.locator("#verdict.bad")
    heading = {"en": "The smallest change that makes a panel possible:", "he": "השינוי הקטן"}
    assert heading[language] in verdict.inner_text()
    assert page.locator("#advice li").count() >= 2  # the change and its total
    assert page.locator("#other-advice").count() == 0
    monkeypatch.setattr(feasibility, "relax_quotas", out_of_time)
    create_project(page, server, "Too many women, slowly", quotas=quotas)
    assert page.locator("#advice").count() == 0
    other = page.locator("#other-advice li")
    assert other.count() == 1
    assert ("What can help:" if language == "en" else "מה יכול לעזור:") in verdict.inner_text()
    assert ("--time-limit" in other.inner_text()) and ("30" in other.inner_text())
    assert page.inner_text("#other-advice code.command") == (
        "sortition check --pool pool.csv --quotas quotas.csv -k 20 "
        "--household-columns address,postcode --time-limit 300"
    )
    screenshot(page, "advice-time-limit", language)
    context.close()


def test_two_browsers_draw_at_once_without_mixing_files(
    browser, server: str, tmp_path: Path
) -> None:
    first, second = browser.new_context(), browser.new_context()
    pages = [first.new_page(), second.new_page()]
    seeds = ["first town hall", "second town hall"]
    for page, name in zip(pages, ("First", "Second"), strict=True):
        page.set_default_timeout(60_000)
        create_project(page, server, name)
    for page, seed in zip(pages, seeds, strict=True):
        draw(page, seed)  # both runs are under way before either finishes
    loaded = sortition.load(POOL, QUOTAS, 20, household_columns=["address", "postcode"])
    for index, (page, seed) in enumerate(zip(pages, seeds, strict=True)):
        page.wait_for_selector("#done", timeout=RUN_SECONDS)
        got_folder = tmp_path / f"got{index}"
        got_folder.mkdir()
        got = download(page, "selected.csv", got_folder)
        expected = sortition.select(loaded, "leximin", seed)
        sortition.write_selection(expected, tmp_path / f"api{index}")
        assert got.read_bytes() == (tmp_path / f"api{index}" / "selected.csv").read_bytes()
    # The second browser cannot open the first one's project, nor list it.
    project = pages[0].url.split("/runs/")[0]
    other = pages[1]
    response = other.goto(project)
    assert response is not None and response.status == 404
    other.goto(server + "/")
    assert "First" not in other.inner_text("main")
    first.close()
    second.close()


def test_cancel_stops_a_run(browser, server: str, tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    pool, quotas = write_instance(
        generate_instance(3000, 150, PRESETS["realistic10"], "web-cancel"), folder
    )
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(60_000)
    create_project(page, server, "Long run", pool=pool, quotas=quotas, k="150", households="")
    draw(page, "a long run")
    page.wait_for_selector("#cancel")
    time.sleep(1.5)
    asked = time.monotonic()
    page.click("#cancel")
    page.wait_for_selector("#cancelled", timeout=30_000)
    assert time.monotonic() - asked < 25
    assert page.locator("a.file").count() == 0
    context.close()


# The Hebrew run with the slow tests (test_the_workflow_in_the_browser keeps Hebrew in the
# browser by default, tests/test_web_i18n.py this page's Hebrew)
@pytest.mark.parametrize("language", ["en", pytest.param("he", marks=pytest.mark.slow)])
def test_publish_first_then_draw(browser, server: str, language: str, tmp_path: Path) -> None:
    """The two-step path: commit, the SHA-256 to publish, dice rolled afterwards, the draw."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/?lang={language}")
    create_project(page, server, "Two steps")
    page.click("#to-draw")
    page.click("#commit-button")
    page.wait_for_selector("#digest", timeout=RUN_SECONDS)
    digest = page.inner_text("#digest").strip()
    commitment = download(page, "commitment.json", tmp_path)
    assert hashlib.sha256(commitment.read_bytes()).hexdigest() == digest
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "he" else "ltr")
    screenshot(page, "commit", language)
    page.check("#seed-dice")
    page.fill("#seed", "6,6,2,1,5")
    page.click("#draw-committed")
    page.wait_for_selector("#done")
    assert page.locator("a.file:text-is('commitment.json')").count() == 1
    page.click("#verify-run")
    assert page.locator("#verdict.ok").is_visible()
    context.close()


# The Hebrew run with the slow tests (test_the_workflow_in_the_browser keeps Hebrew in the
# browser by default, tests/test_web_i18n.py this page's Hebrew)
@pytest.mark.parametrize("language", ["en", pytest.param("he", marks=pytest.mark.slow)])
def test_the_audit_report_in_the_page(browser, server: str, language: str) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/?lang={language}")
    create_project(page, server, "Audit")
    page.click("#to-audit")
    page.fill("#draws", "300")
    page.click("#audit-button")
    page.wait_for_selector("#report", timeout=RUN_SECONDS)
    report = page.frame_locator("#report")
    assert "LEXIMIN" in report.locator("body").inner_text()
    screenshot(page, "audit", language)
    context.close()


@pytest.mark.parametrize("language", ["en", "he"])
def test_invitation_letters_in_the_browser(
    browser, server: str, language: str, tmp_path: Path
) -> None:
    from sortition.synthetic.registries import generate_registry, write_registry

    registry = tmp_path / "register.csv"
    write_registry(generate_registry(2000, 3, "web-browser-invite"), registry)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/?lang={language}")
    page.fill("#name", "Letters")
    page.click("#create")
    page.click("#to-invite")
    page.set_input_files("#registry", str(registry))
    page.fill("#letters", "200")
    page.fill("#inv_household_columns", "address,postcode")
    page.fill("#stratify_by", "area")
    page.fill("#weights", "area-1: 1.5")
    page.fill("#inv-seed", "4,1,6,2,5")
    screenshot(page, "invite", language)
    page.click("#invite-button")
    page.wait_for_selector("#done", timeout=RUN_SECONDS)
    assert page.locator("a.file:text-is('invitations.csv')").count() == 1
    page.click("#verify-run")
    assert page.locator("#verdict.ok").is_visible()
    context.close()


def test_a_project_with_personal_ids_gets_a_key(browser, server: str, tmp_path: Path) -> None:
    """E-mail ids: the project page says the project has a pseudonym key and offers its file;
    the record downloaded after a draw names nobody and verifies with that key file."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(server + "/")
    page.fill("#name", "Private pool")
    page.click("#create")
    page.set_input_files("#pool", str(POOL))
    page.set_input_files("#quotas", str(QUOTAS))
    page.fill("#k", "20")
    page.fill("#household_columns", "address,postcode")
    page.fill("#id_column", "email")
    page.click("#upload-button")
    assert page.locator("#key-made").is_visible()
    with page.expect_download() as info:
        page.click("#download-key")
    key = tmp_path / "pseudonyms.key"
    info.value.save_as(key)
    assert info.value.suggested_filename == "pseudonyms.key"

    draw(page, "3,6,1,4,2", kind="dice")
    page.wait_for_selector("#done", timeout=RUN_SECONDS)
    assert page.locator("#pseudonymous").is_visible()
    record = download(page, "record.json", tmp_path)
    assert b"@example.net" not in record.read_bytes()
    report = sortition.verify_record(record, POOL, QUOTAS, pseudonym_key=key)
    assert report.ok
    context.close()


def drawn_panel(browser, server: str, language: str, english: str, hebrew: str):
    """A new browser context in ``language`` with a project of the example whose panel is
    drawn (LEXIMIN, dice), its page at the draw's run; returns the context and the page."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/?lang={language}")
    create_project(page, server, english if language == "en" else hebrew)
    draw(page, "3,6,1,4,2", kind="dice")
    page.wait_for_selector("#done", timeout=RUN_SECONDS)
    return context, page


# The Hebrew run with the slow tests (test_the_workflow_in_the_browser keeps Hebrew in the
# browser by default, tests/test_web_i18n.py this page's Hebrew)
@pytest.mark.parametrize("language", ["en", pytest.param("he", marks=pytest.mark.slow)])
def test_replace_dropouts_in_the_browser(
    browser, server: str, language: str, tmp_path: Path
) -> None:
    """Draw, then three members drop out: the Replace dropouts page (built on the draw), the
    dice, the round's page with the dropouts and the replacements, and its record verified."""
    context, page = drawn_panel(browser, server, language, "Replacements", "החלפות")
    panel = json.loads(download(page, "record.json", tmp_path).read_bytes())["panel"]
    page.goto(page.url.split("/runs/")[0])
    page.click("#to-replace")
    assert page.locator("#builds-on-1").is_checked()
    page.fill("#dropouts", "\n".join(panel[:3]))
    page.check("#seed-dice")
    page.fill("#seed", "6,2,3,4,1")
    screenshot(page, "replace", language)
    page.click("#replace-button")
    page.wait_for_selector("#done", timeout=RUN_SECONDS)
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "he" else "ltr")
    shown = page.inner_text("#replacements")
    assert all(person in shown for person in panel[:3])
    record = json.loads(download(page, "replacement.json", tmp_path).read_bytes())
    assert len(record["replacements"]) == 3
    assert all(person in shown for person in record["replacements"])
    screenshot(page, "replacements", language)
    page.click("#verify-run")
    assert page.locator("#verdict.ok").is_visible()
    context.close()


# about 17 s each on the session's machine: the Hebrew one runs with the slow tests
@pytest.mark.parametrize("language", ["en", pytest.param("he", marks=pytest.mark.slow)])
def test_alternates_in_the_browser(browser, server: str, language: str) -> None:
    """Draw, then choose four alternates at a dropout rate of 0.1: the comparison of the four
    sets on the run's page, and its record verified."""
    context, page = drawn_panel(browser, server, language, "Alternates", "ממלאי מקום")
    page.goto(page.url.split("/runs/")[0])
    page.click("#to-alternates")
    page.fill("#budget", "4")
    page.fill("#seed", "alternates-2026")
    page.click("#alternates-button")
    page.wait_for_selector("#done", timeout=RUN_SECONDS)
    assert page.locator("#figures tbody tr").count() == 4
    screenshot(page, "alternates", language)
    page.click("#verify-run")  # the choice made again in the background: its progress first
    page.wait_for_selector("#verdict.ok", timeout=RUN_SECONDS)
    context.close()


# The Hebrew run with the slow tests (test_the_workflow_in_the_browser keeps Hebrew in the
# browser by default, tests/test_web_i18n.py this page's Hebrew)
@pytest.mark.parametrize("language", ["en", pytest.param("he", marks=pytest.mark.slow)])
def test_seat_at_tables_in_the_browser(browser, server: str, language: str, tmp_path: Path) -> None:
    """Draw, then seat the panel: tables of at most 5, three rounds, the quota features
    balanced (ticked already), the names on the plan; the seating's page with every table's
    people in each round, and its record verified against the panel's file."""
    context, page = drawn_panel(browser, server, language, "World Café", "שולחנות עגולים")
    page.goto(page.url.split("/runs/")[0])
    page.click("#to-groups")
    assert page.locator("#builds-on-1").is_checked()
    assert page.locator("#layout-size").is_checked()
    page.fill("#size", "5")
    page.fill("#rounds", "3")
    page.select_option("#name-column", "first_name")
    page.fill("#seed", "world-cafe-2026")
    screenshot(page, "groups", language)
    page.click("#groups-button")
    page.wait_for_selector("#done", timeout=RUN_SECONDS)
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "he" else "ltr")
    assert page.locator("#seating tbody tr").count() == 4
    assert page.locator("#seating thead th").count() == 1 + 3
    record = json.loads(download(page, "groups.json", tmp_path).read_bytes())
    shown = page.inner_text("#seating")
    assert all(person in shown for person in record["panel"]["ids"])
    assert record["options"]["balance"] == ["gender", "age", "area", "education"]
    screenshot(page, "seating", language)
    page.click("#verify-run")
    assert page.locator("#verdict.ok").is_visible()
    context.close()
