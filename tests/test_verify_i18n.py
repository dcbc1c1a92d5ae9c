"""verify's checklist in Hebrew (issue #18): the item names and details are translated by the
entry layer (``sortition --lang he verify``, the page's Verify page) while the library's text,
and so every record, JSON output and golden file, stays English word for word."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("babel")

import sortition
from sortition.errors import Message
from sortition.i18n import translations
from sortition.verify.items import ITEM_NAMES
from tests.helpers import EXAMPLE, run_cli, select_args

escape = pytest.importorskip("markupsafe").escape

HEBREW = re.compile(r"[\u0590-\u05ff]")
LINE = re.compile(r"^\[(?P<mark>[^\]]+)\] (?P<name>[^:]+): (?P<detail>.*)$")


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("verify-he") / "out"
    args = select_args(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, seed="hebrew")
    result = run_cli([*args, "--household-columns", "address,postcode", "--out", out])
    assert result.exit_code == 0, result.stderr
    return out / "record.json"


def tampered(record: Path, folder: Path) -> Path:
    """The record with its first panel member swapped for someone else of the pool."""
    document = json.loads(record.read_text(encoding="utf-8"))
    outsider = next(row["id"] for row in document["pool"] if row["id"] not in document["panel"])
    document["panel"][0] = outsider
    path = folder / "tampered.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def checklist(stdout: str) -> list[tuple[str, str, str]]:
    return [
        (m["mark"], m["name"], m["detail"])
        for line in stdout.splitlines()
        if (m := LINE.match(line)) is not None
    ]


def verify_args(record: Path) -> list[object]:
    return ["verify", record, "--pool", EXAMPLE / "pool.csv", "--quotas", EXAMPLE / "quotas.csv"]


def test_a_passing_record_in_hebrew(record: Path) -> None:
    english = run_cli(verify_args(record))
    hebrew = run_cli(["--lang", "he", *verify_args(record)])
    assert english.exit_code == hebrew.exit_code == 0, hebrew.stderr
    ours, theirs = checklist(hebrew.stdout), checklist(english.stdout)
    assert len(ours) == len(theirs) >= 10
    catalogue = translations("library", "he")
    for (mark, name, detail), (_, english_name, english_detail) in zip(ours, theirs, strict=True):
        assert mark == "תקין"
        assert name == catalogue.gettext(english_name) and HEBREW.search(name), name
        assert HEBREW.search(detail) and detail != english_detail, detail
    assert "הזרע 'hebrew'" in hebrew.stdout and "הפאנל הרשום" in hebrew.stdout
    assert not HEBREW.search(english.stdout)


def test_a_tampered_record_in_hebrew(record: Path, tmp_path: Path) -> None:
    changed = tampered(record, tmp_path)
    english = run_cli(verify_args(changed))
    hebrew = run_cli(["--lang", "he", *verify_args(changed)])
    assert english.exit_code == hebrew.exit_code == 1, hebrew.stderr
    failed = {name: detail for mark, name, detail in checklist(hebrew.stdout) if mark != "תקין"}
    assert "ההגרלה" in failed and "וזה פאנל אחר" in failed["ההגרלה"]
    assert "הזרע נותן" in failed["ההגרלה"]  # the difference is translated inside the detail
    assert all(HEBREW.search(detail) for detail in failed.values()), failed
    assert "ההגרלה" in hebrew.stdout.splitlines()[-1]  # the summary names the items in Hebrew
    assert "which is another panel" in english.stdout and not HEBREW.search(english.stdout)


@pytest.mark.parametrize("recompute", [False, True])
def test_the_english_text_is_the_template_filled_in(
    record: Path, tmp_path: Path, recompute: bool
) -> None:
    """``str(detail)`` is what the English checklist has always printed: the template filled in
    with the values, passed through an English catalogue, gives the same words; every name a
    checker gives is marked for the catalogue and translated."""
    catalogue = translations("library", "he")
    for path in (record, tampered(record, tmp_path)):
        report = sortition.verify_record(
            path, EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", recompute=recompute
        )
        for item in report.items:
            assert item.name in ITEM_NAMES and catalogue.gettext(item.name) != item.name
            assert isinstance(item.detail, Message), (item.name, item.detail)
            assert item.text(lambda message: message) == (item.name, str(item.detail))
            _name, detail = item.text(catalogue.gettext)
            assert HEBREW.search(detail), detail


def test_the_verify_page_in_hebrew(record: Path, tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from tests.test_web import client, example_files

    browser = client(tmp_path / "data")
    for path, code in ((record, 0), (tampered(record, tmp_path), 1)):
        lines = checklist(run_cli(["--lang", "he", *verify_args(path)]).stdout)
        page = browser.post(
            "/verify?lang=he",
            files={
                "record": ("record.json", path.read_bytes(), "application/json"),
                **example_files(),
            },
        ).text
        assert 'dir="rtl"' in page
        for _mark, name, detail in lines:
            assert f"<code>{escape(name)!s}</code>" in page, name
            assert str(escape(detail)) in page, detail
        assert ("✗" in page) == (code == 1)


def test_a_record_with_type_counts_in_hebrew(tmp_path: Path) -> None:
    """``select --publish-types``: public alone (quotas within bounds), with the pool file and
    the key (exact, recomputed), and with a changed panel; every detail in Hebrew, and the
    English lines the same as the library's text."""
    from tests.test_publish_types import select

    out = tmp_path / "panel"
    pool, _quotas, key, _ = select(tmp_path, out)
    record = out / "record.json"
    document = json.loads(record.read_text(encoding="utf-8"))
    document["panel"][0], document["panel"][1] = document["panel"][1], document["panel"][0]
    document["seed"]["value"] = "another seed"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document), encoding="utf-8")
    with_key = ["--pool", pool, "--pseudonym-key", key]
    catalogue = translations("library", "he")
    for path, extra, code in (
        (record, [], 0),
        (record, [*with_key, "--recompute"], 0),
        (changed, [], 1),
    ):
        english = run_cli(["verify", path, *extra])
        hebrew = run_cli(["--lang", "he", "verify", path, *extra])
        assert english.exit_code == hebrew.exit_code == code, hebrew.stdout + hebrew.stderr
        ours, theirs = checklist(hebrew.stdout), checklist(english.stdout)
        assert len(ours) == len(theirs) >= 10
        for (_, name, detail), (_, english_name, _) in zip(ours, theirs, strict=True):
            assert name == catalogue.gettext(english_name) != english_name
            assert HEBREW.search(detail), detail
        assert not HEBREW.search(english.stdout)
        report = sortition.verify_record(
            path, **({"pool_path": pool, "pseudonym_key": key} if extra else {})
        )
        for item in report.items:
            assert item.name in ITEM_NAMES and isinstance(item.detail, Message), item
    assert "בתוך גבולות" in run_cli(["--lang", "he", "verify", record]).stdout


def test_the_certificate_names_its_objective_in_hebrew(record: Path) -> None:
    """The objective's and the record kind's words are the record's (English in every record)
    but a reader sees them in the checklist's language."""
    english = run_cli(verify_args(record)).stdout
    hebrew = run_cli(["--lang", "he", *verify_args(record)]).stdout
    line = next(x for x in english.splitlines() if x.startswith("[ok] certificate:"))
    assert "optimal (certified): smallest probability 0.0" in line
    line = next(x for x in hebrew.splitlines() if "ההסתברות הקטנה ביותר 0.0" in x)
    assert "smallest probability" not in line
    assert "[ok] record version: selection record version 6" in english
    assert "רשומת בחירה בגרסה 6" in hebrew and "selection" not in hebrew
