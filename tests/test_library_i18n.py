"""The other readers' problems in Hebrew, end to end as a user types them: the registry, the seed
sources, the --out folder, the panel and its rules for the table groups, the dropouts. The English
text of each stays word for word; the Hebrew one names the same file, row and column."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import sortition
from sortition.dropouts.ids import IdList
from sortition.errors import InputError, Message
from sortition.i18n import translations
from sortition.record.replacement import id_problems
from sortition.seeds import seed_from_beacon, seed_from_dice
from sortition.verify.items import ITEM_NAMES
from tests.helpers import EXAMPLE, run_cli, runnable_instance, select_args


def both(args: Sequence[object], code: int = 2) -> tuple[str, str]:
    """The command's stderr in English and in Hebrew; both exit with ``code``."""
    english = run_cli(args)
    hebrew = run_cli(["--lang", "he", *args])
    assert english.exit_code == hebrew.exit_code == code, (english.stderr, hebrew.stderr)
    assert len(english.stderr.splitlines()) == len(hebrew.stderr.splitlines())
    return english.stderr, hebrew.stderr


def test_a_registry_without_its_id_column_in_hebrew(tmp_path: Path) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text("name,area\nann,a\nbob,b\n", encoding="utf-8")
    args = ["invite", "--registry", registry, "--letters", 1, "--seed", "s"]
    english, hebrew = both([*args, "--out", tmp_path / "out"])
    assert (
        "registry.csv, row 1: has no column 'id' (--id-column): a registry needs an id column, "
        "since row numbers would depend on the file's order; its columns are name, area"
    ) in english
    assert (
        "registry.csv, שורה 1: אין בו עמודה 'id' (--id-column): מרשם צריך עמודת מזהים, כי מספרי "
        "שורות היו תלויים בסדר הקובץ; העמודות שלו הן name, area"
    ) in hebrew
    assert not (tmp_path / "out").exists()


def test_a_registry_saved_from_excel_and_an_empty_one_in_hebrew(tmp_path: Path) -> None:
    excel = tmp_path / "registry.xlsx"
    excel.write_bytes(b"PK\x03\x04 not really a workbook")
    english, hebrew = both(
        ["invite", "--registry", excel, "--letters", 1, "--seed", "s", "--out", tmp_path / "o"]
    )
    assert "registry.xlsx: a registry is read as CSV (UTF-8) or Parquet: save it as one" in english
    assert "registry.xlsx: מרשם נקרא כ-CSV" in hebrew
    empty = tmp_path / "empty.csv"
    empty.write_text("\n", encoding="utf-8")
    english, hebrew = both(
        ["invite", "--registry", empty, "--letters", 1, "--seed", "s", "--out", tmp_path / "o"]
    )
    assert "empty.csv: is empty or has no header line" in english
    assert "empty.csv: ריק או שאין בו שורת כותרת" in hebrew


def test_bad_dice_in_hebrew(tmp_path: Path) -> None:
    args = select_args(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, "--dice", "3,,100,x")
    english, hebrew = both([*args, "--out", tmp_path / "out"])
    assert "--dice: roll 2 of 4 is empty (two commas in a row, or one at an end?)" in english
    assert "--dice: roll 3 of 4 (100) is above 99" in english
    assert "--dice: roll 4 of 4 ('x') is not a whole number from 0 to 99" in english
    assert "--dice: הטלה 2 מתוך 4 ריקה (שני פסיקים ברצף, או פסיק בקצה?)" in hebrew
    assert "--dice: הטלה 3 מתוך 4 (100) גדולה מ-99" in hebrew
    assert "--dice: הטלה 4 מתוך 4 ('x') אינה מספר שלם בין 0 ל-99" in hebrew
    assert not (tmp_path / "out").exists()


def test_two_seed_sources_and_a_bad_beacon_in_hebrew(tmp_path: Path) -> None:
    args = select_args(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, "--dice", "3")
    english, hebrew = both([*args, "--seed", "x", "--out", tmp_path / "out"])
    assert "give only one seed source, got --seed and --dice (choose one of" in english
    assert "יש לתת מקור אחד בלבד לזרע האקראיות, ניתנו --seed and --dice" in hebrew
    beacon = tmp_path / "beacon.json"
    beacon.write_text('{"round": -3, "randomness": "ab"}', encoding="utf-8")
    args = select_args(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, "--beacon", beacon)
    english, hebrew = both([*args, "--out", tmp_path / "out"])
    assert "beacon.json, column 'round': must not be negative, got -3" in english
    assert "beacon.json, עמודה 'round': אסור שיהיה שלילי, התקבל -3" in hebrew
    beacon.write_text("{oops", encoding="utf-8")
    english, hebrew = both([*args, "--out", tmp_path / "out"])
    assert "beacon.json: is not valid JSON (line 1, column 2: " in english
    assert "beacon.json: אינו JSON תקין (שורה 1, עמודה 2: " in hebrew


def test_a_non_empty_output_folder_in_hebrew(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    args = select_args(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, seed="s", out=out)
    english, hebrew = both(args)
    assert (
        f"{out}: is not empty; choose another --out folder (--force replaces only a folder "
        "sortition wrote)"
    ) in english
    assert f"{out}: אינה ריקה; יש לבחור תיקיית --out אחרת" in hebrew
    english, hebrew = both([*args, "--force"])
    assert f"{out}: was not written by sortition (it has no .sortition-output file)" in english
    assert f"{out}: לא נכתבה על ידי sortition (אין בה קובץ .sortition-output)" in hebrew
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_an_output_folder_holding_the_pool_in_hebrew(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_bytes((EXAMPLE / "pool.csv").read_bytes())
    args = select_args(pool, EXAMPLE / "quotas.csv", 20, "--force", seed="s", out=tmp_path)
    english, hebrew = both(args)
    assert f"holds the input file {pool}; choose another --out folder" in english
    assert f"מכילה את קובץ הקלט {pool}; יש לבחור תיקיית --out אחרת" in hebrew


def test_a_groups_panel_and_its_rules_in_hebrew(tmp_path: Path) -> None:
    panel = tmp_path / "panel.csv"
    panel.write_text("id,area\na,n\nb,s\nc,n\na,s\n", encoding="utf-8")
    args = ["groups", "--panel", panel, "--tables", 2, "--balance", "area", "--seed", "s"]
    english, hebrew = both([*args, "--out", tmp_path / "out"])
    assert "panel.csv, row 5, column 'id': id 'a' repeats row 2" in english
    assert "panel.csv, שורה 5, עמודה 'id': המזהה 'a' חוזר על שורה 2" in hebrew
    panel.write_text("id,area\na,n\nb,s\nc,n\nd,s\n", encoding="utf-8")
    fixed = tmp_path / "fixed.csv"
    fixed.write_text("id,table\na,1\nz,2\nb,7\n", encoding="utf-8")
    english, hebrew = both([*args, "--fixed", fixed, "--out", tmp_path / "out"])
    assert "fixed.csv, row 3, column 'id': id 'z' is not on the panel" in english
    assert (
        "fixed.csv, row 4, column 'table': the table must be a whole number from 1 to 2" in english
    )
    assert "fixed.csv, שורה 3, עמודה 'id': המזהה 'z' אינו בפאנל" in hebrew
    assert "fixed.csv, שורה 4, עמודה 'table': השולחן חייב להיות מספר שלם מ-1 עד 2" in hebrew


def test_the_library_keeps_the_english_word_for_word() -> None:
    with pytest.raises(InputError) as raised:
        seed_from_dice("100")
    assert str(raised.value) == "--dice: roll 1 of 1 (100) is above 99"
    assert raised.value.problems[0].template is not None


def test_a_pseudonymised_dropout_is_named_as_given(tmp_path: Path) -> None:
    """A dropout given by the pool file's id and mapped to its pseudonym: the problem names the
    id as the organiser typed it, in English and in Hebrew."""
    ids = IdList(("p-1",), ("drop.txt",), (3,), ("ann",))

    class State:
        panel = ("p-2",)

        class instance:  # a stand-in for the chain's instance
            class pool:
                ids = ("p-2", "p-3")

    [(_, position, message)] = id_problems(State, ids.ids, ())  # type: ignore[arg-type]
    found = ids.problem(position, message)
    assert str(found) == "drop.txt, row 3: dropout 'ann' is not on the current panel"
    hebrew = found.text(translations("library", "he").gettext)
    assert hebrew == "drop.txt, שורה 3: הפורש 'ann' אינו בפאנל הנוכחי"


def test_a_beacon_problem_keeps_its_field_as_the_column(tmp_path: Path) -> None:
    beacon = tmp_path / "b.json"
    beacon.write_text('{"round": 1, "randomness": "zz"}', encoding="utf-8")
    with pytest.raises(InputError) as raised:
        seed_from_beacon(beacon)
    [found] = raised.value.problems
    assert found.column == "randomness"
    assert str(found) == (
        "b.json, column 'randomness': is not hexadecimal (digits 0-9 and a-f only)"
    )


# --- verify's checklist for the other record kinds -------------------------------------------

LINE = re.compile(r"^\[(?P<mark>[^\]]+)\] (?P<name>[^:]+): (?P<detail>.*)$")
HEBREW = re.compile(r"[\u0590-\u05ff]")


def checklist(stdout: str) -> list[tuple[str, str, str]]:
    return [
        (m["mark"], m["name"], m["detail"])
        for line in stdout.splitlines()
        if (m := LINE.match(line)) is not None
    ]


def both_checklists(args: list[object], code: int) -> list[tuple[tuple[str, ...], ...]]:
    """The English and Hebrew checklists, line by line; every Hebrew name is the catalogue's
    translation of the English one, and every Hebrew detail has Hebrew words."""
    english, hebrew = run_cli(["verify", *args]), run_cli(["--lang", "he", "verify", *args])
    assert english.exit_code == hebrew.exit_code == code, (english.stdout, hebrew.stdout)
    ours, theirs = checklist(hebrew.stdout), checklist(english.stdout)
    assert ours and len(ours) == len(theirs)
    catalogue = translations("library", "he")
    for (_, name, detail), (_, english_name, _) in zip(ours, theirs, strict=True):
        assert name == catalogue.gettext(english_name) and HEBREW.search(name), name
        assert HEBREW.search(detail), (name, detail)
    assert not HEBREW.search(english.stdout)
    return list(zip(theirs, ours, strict=True))


def each_item_is_a_message(report: Any) -> None:
    """Every item's name is marked and translated, its detail a Message whose template filled in
    is the English text, and whose Hebrew has Hebrew words."""
    catalogue = translations("library", "he")
    for item in report.items:
        assert item.name in ITEM_NAMES and catalogue.gettext(item.name) != item.name, item.name
        assert isinstance(item.detail, Message), (item.name, item.detail)
        assert item.text(lambda message: message) == (item.name, str(item.detail))
        assert HEBREW.search(item.text(catalogue.gettext)[1]), item


@pytest.fixture
def invitation(tmp_path: Path) -> tuple[Path, Path]:
    registry = tmp_path / "registry.csv"
    rows = [f"p{i},{'north' if i % 3 else 'south'}" for i in range(30)]
    registry.write_text("id,area\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "invited"
    args = ["invite", "--registry", registry, "--letters", 6, "--stratify-by", "area"]
    result = run_cli([*args, "--seed", "hebrew", "--out", out])
    assert result.exit_code == 0, result.stderr
    return out / "record.json", registry


def test_verify_an_invitation_record_in_hebrew(invitation: tuple[Path, Path]) -> None:
    record, registry = invitation
    lines = both_checklists([record, "--registry", registry], 0)
    details = {english[1]: (english[2], hebrew[2]) for english, hebrew in lines}
    assert details["draw"] == (
        "all 6 invitations re-derived from the seed and the registry",
        "כל 6 ההזמנות נגזרו מחדש מזרע האקראיות ומהמרשם",
    )
    assert details["registry counts"][1] == "30 שורות, 30 משקי בית ב־2 שכבות"
    each_item_is_a_message(sortition.verify_record(record, registry_path=registry))


def test_verify_an_invitation_record_against_another_registry_in_hebrew(
    invitation: tuple[Path, Path],
) -> None:
    record, registry = invitation
    text = registry.read_text(encoding="utf-8").replace("p0,", "q0,")
    registry.write_text(text, encoding="utf-8")
    lines = both_checklists([record, "--registry", registry], 1)
    failed = {
        english[1]: (english[2], hebrew[2]) for english, hebrew in lines if english[0] != "ok"
    }
    assert "registry file" in failed and "draw" in failed
    assert "differs from the record's" in failed["registry file"][0]
    assert "שונה מזה שברשומה" in failed["registry file"][1]
    assert "נרשמו אבל לא הוגרלו" in failed["draw"][1] or "הוגרלו אבל לא נרשמו" in failed["draw"][1]


def test_verify_an_invitation_record_without_the_registry_in_hebrew(
    invitation: tuple[Path, Path],
) -> None:
    record, _ = invitation
    english, hebrew = both(["verify", record])
    assert "is an invitation record: its invitations can only be re-derived" in english
    assert "היא רשומת הזמנות: את ההזמנות שבה אפשר לגזור מחדש רק מהמרשם" in hebrew


def test_verify_a_groups_record_in_hebrew(groups_record: tuple[Path, Path]) -> None:
    record, panel = groups_record
    lines = both_checklists([record, "--panel", panel], 0)
    details = {english[1]: (english[2], hebrew[2]) for english, hebrew in lines}
    assert details["seating"] == (
        "12 people, every rule kept in every round",
        "12 אנשים, כל כלל נשמר בכל סבב",
    )
    assert details["search"][1] == "נגזרה מחדש מזרע האקראיות ב־50 מהלכים: אותה הושבה"
    assert details["measures"][1].startswith("זוגות חוזרים ")
    each_item_is_a_message(sortition.verify_record(record, panel_path=panel))


def test_verify_a_tampered_groups_record_in_hebrew(
    groups_record: tuple[Path, Path], tmp_path: Path
) -> None:
    record, panel = groups_record
    document = json.loads(record.read_text(encoding="utf-8"))
    document["result"]["repeat_pairs"] = 999
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document), encoding="utf-8")
    lines = both_checklists([changed, "--panel", panel], 1)
    failed = {
        english[1]: (english[2], hebrew[2]) for english, hebrew in lines if english[0] != "ok"
    }
    assert set(failed) == {"measures"}
    english, hebrew = failed["measures"]
    assert "repeat_pairs is " in english and ", the record says 999" in english
    assert "repeat_pairs הוא " in hebrew and ", ברשומה כתוב 999" in hebrew


def test_verify_an_alternates_record_in_hebrew(tmp_path: Path) -> None:
    panel = tmp_path / "panel"
    args = select_args(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, seed="s", out=panel)
    assert run_cli(args).exit_code == 0
    result = run_cli(
        ["alternates", "--record", panel / "record.json", "--pool", EXAMPLE / "pool.csv",
         "--budget", "3", "--seed", "a", "--evaluate", "40", "--scenarios", "20",
         "--dropout-rate", "0.1", "--out", tmp_path / "alt"]
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    record = tmp_path / "alt" / "alternates.json"
    lines = both_checklists([record], 0)
    details = {english[1]: (english[2], hebrew[2]) for english, hebrew in lines}
    assert details["alternates"] == (
        "3 people, re-derived from the seed",
        "3 אנשים, נגזרו מחדש מזרע האקראיות",
    )
    assert details["figures"][1].startswith("כל נתון של ההשוואה חושב מחדש")
    each_item_is_a_message(sortition.verify_record(record))


@pytest.mark.parametrize(
    ("algorithm", "extra", "name", "words"),
    [
        ("diversimax", [], "diversity", "הציון של הפאנל שהוגרל הוא"),
        ("leximin", ["--diversity-within", "0.1"], "diversity bound", "הציון של כל"),
    ],
)
def test_verify_the_diversity_items_in_hebrew(
    tmp_path: Path, algorithm: str, extra: list[str], name: str, words: str
) -> None:
    case = runnable_instance("example_small_20")
    out = tmp_path / "out"
    args = select_args(case.pool, case.quotas, case.k, algorithm=algorithm, seed="s", out=out)
    result = run_cli([*args, *extra])
    assert result.exit_code == 0, result.stderr
    record = out / "record.json"
    lines = both_checklists([record], 0)
    details = {english[1]: (english[2], hebrew[2]) for english, hebrew in lines}
    assert details[name][1].startswith(words), details[name]
    document = json.loads(record.read_text(encoding="utf-8"))
    if name == "diversity":
        document["distribution"]["certificate"]["value"] = 123.0
    else:
        document["distribution"]["diversity"]["limit"] = 0.0
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document), encoding="utf-8")
    english, hebrew = run_cli(["verify", changed]), run_cli(["--lang", "he", "verify", changed])
    assert english.exit_code == hebrew.exit_code == 1
    failed = {n: d for mark, n, d in checklist(hebrew.stdout) if mark != "תקין"}
    translated = translations("library", "he").gettext(name)
    assert translated in failed and HEBREW.search(failed[translated]), failed


def test_verify_a_distribution_with_a_wrong_certificate_and_panel_in_hebrew(
    tmp_path: Path,
) -> None:
    """The distribution's own problems (its certificate's gap, a panel of the wrong size) in
    Hebrew, the English as before."""
    out = tmp_path / "out"
    args = select_args(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, seed="s", out=out)
    assert run_cli(args).exit_code == 0
    document = json.loads((out / "record.json").read_text(encoding="utf-8"))
    document["distribution"]["certificate"]["gap"] = 0.5
    document["distribution"]["k"] = 21
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document), encoding="utf-8")
    english, hebrew = run_cli(["verify", changed]), run_cli(["--lang", "he", "verify", changed])
    assert english.exit_code == hebrew.exit_code == 1
    theirs = {n: d for mark, n, d in checklist(english.stdout) if mark != "ok"}
    ours = {n: d for mark, n, d in checklist(hebrew.stdout) if mark != "תקין"}
    catalogue = translations("library", "he")
    assert theirs["certificate"].startswith("gap 0.5, its bound and value give ")
    assert ours[catalogue.gettext("certificate")].startswith("הפער 0.5, אבל החסם והערך נותנים ")
    assert "the distribution's k is 21, the record's 20" in theirs["distribution panels"]
    assert "ה־k של ההתפלגות הוא 21, של הרשומה 20" in ours[catalogue.gettext("distribution panels")]


def test_verify_a_lottery_with_a_wrong_change_in_hebrew(tmp_path: Path) -> None:
    case = runnable_instance("example_small_20")
    out = tmp_path / "out"
    args = select_args(case.pool, case.quotas, case.k, "--panels", 100, seed="t", out=out)
    assert run_cli([*args, "--algorithm", "maximin"]).exit_code == 0
    document = json.loads((out / "record.json").read_text(encoding="utf-8"))
    document["lottery"]["max_change"] = 0.25
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document), encoding="utf-8")
    english, hebrew = run_cli(["verify", changed]), run_cli(["--lang", "he", "verify", changed])
    assert english.exit_code == hebrew.exit_code == 1
    theirs = {n: d for mark, n, d in checklist(english.stdout) if mark != "ok"}
    ours = {n: d for mark, n, d in checklist(hebrew.stdout) if mark != "תקין"}
    lottery = translations("library", "he").gettext("lottery")
    assert "the 100 panels move a person's probability by at most " in theirs["lottery"]
    assert "the record states 0.250000" in theirs["lottery"]
    assert "100 הפאנלים משנים את ההסתברות של אדם לכל היותר ב־" in ours[lottery]
    assert "ברשומה כתוב 0.250000" in ours[lottery]


def _replacement_record(tmp_path: Path) -> Path:
    panel = tmp_path / "panel"
    args = select_args(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, seed="s", out=panel)
    assert run_cli(args).exit_code == 0
    members = json.loads((panel / "record.json").read_text(encoding="utf-8"))["panel"]
    result = run_cli(
        ["replace", "--record", panel / "record.json", "--pool", EXAMPLE / "pool.csv",
         "--dropout", members[0], "--dropout", members[5], "--seed", "r",
         "--out", tmp_path / "round1"]
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return tmp_path / "round1" / "replacement.json"


def _lines(args: list[object], code: int) -> list[tuple[str, str]]:
    """The checklist's lines in English and in Hebrew, side by side."""
    english, hebrew = run_cli(["verify", *args]), run_cli(["--lang", "he", "verify", *args])
    assert english.exit_code == hebrew.exit_code == code, (english.stdout, hebrew.stdout)
    ours = [line for line in hebrew.stdout.splitlines() if line.startswith("[")]
    theirs = [line for line in english.stdout.splitlines() if line.startswith("[")]
    assert ours and len(ours) == len(theirs)
    assert not HEBREW.search(english.stdout)
    return list(zip(theirs, ours, strict=True))


def test_verify_a_replacement_record_in_hebrew(tmp_path: Path) -> None:
    record = _replacement_record(tmp_path)
    lines = dict(_lines([record], 0))
    assert lines["[ok] round 1: dropouts: 2 listed, all on the panel they leave"] == (
        "[תקין] סבב 1: פורשים: 2 ברשימה, כולם בפאנל שהם עוזבים"
    )
    for english, hebrew in lines.items():
        assert HEBREW.search(hebrew.split(": ", 1)[1]), (english, hebrew)
    report = sortition.verify_record(record)
    catalogue = translations("library", "he")
    names = set()
    for item in report.items:
        assert item.text(lambda message: message) == (item.name, str(item.detail))
        name, detail = item.text(catalogue.gettext)
        assert HEBREW.search(name) and HEBREW.search(detail), item
        names.add(item.name)
    # built names compare equal to their English, as before
    assert report.item("round 1: quotas met").ok
    assert {"selection: draw", "round 1: builds on", "round 1: derived quotas met"} <= names


def test_verify_a_tampered_replacement_record_in_hebrew(tmp_path: Path) -> None:
    record = _replacement_record(tmp_path)
    data = json.loads(record.read_text(encoding="utf-8"))
    data["builds_on"]["sha256"] = "0" * 64
    record.write_text(json.dumps(data), encoding="utf-8")
    lines = _lines([record], 1)
    failed = [(english, hebrew) for english, hebrew in lines if "builds on" in english]
    assert len(failed) == 1
    english, hebrew = failed[0]
    assert f"round 1: builds on: the record states {'0' * 64}, the record it embeds" in english
    assert f"סבב 1: נשענת על: הרשומה מציינת {'0' * 64}, והגיבוב של הרשומה" in hebrew


def test_a_replacement_that_cannot_be_met_in_hebrew(tmp_path: Path) -> None:
    from tests.test_dropouts import POOL, QUOTAS, K

    (tmp_path / "pool.csv").write_text(POOL, encoding="utf-8")
    (tmp_path / "quotas.csv").write_text(QUOTAS, encoding="utf-8")
    args = select_args(
        tmp_path / "pool.csv", tmp_path / "quotas.csv", K, "--household-columns", "address",
        seed="s", out=tmp_path / "panel",
    )  # fmt: skip
    assert run_cli(args).exit_code == 0
    record = json.loads((tmp_path / "panel/record.json").read_text(encoding="utf-8"))
    rows = {row["id"]: row["values"]["age"] for row in record["pool"]}
    ages = [rows[p] for p in record["panel"]]
    age = next(a for a in sorted(set(ages)) if ages.count(a) == 1)  # at its min of 1
    leaving = next(p for p in record["panel"] if rows[p] == age)
    others = [p for p in rows if rows[p] == age and p not in record["panel"]]
    (tmp_path / "declined.txt").write_text("\n".join(others) + "\n", encoding="utf-8")
    english, hebrew = both(
        ["replace", "--record", tmp_path / "panel/record.json", "--pool", tmp_path / "pool.csv",
         "--dropout", leaving, "--unavailable", tmp_path / "declined.txt", "--seed", "x",
         "--out", tmp_path / "out"],
        3,
    )  # fmt: skip
    assert f"candidates meet the quotas left by the {K - 1} members who stay" in english
    assert f"age {age}: lower min from 1 to 0" in english
    assert f"המועמדים שעומדים במכסות שמשאירים {K - 1} החברים שנשארים" in hebrew
    assert "השינוי הקטן ביותר במכסות המקוריות שמאפשר החלפה" in hebrew
    assert f"age {age}: הורידו את min מ-1 ל-0" in hebrew
    assert "הגרלת המחליפים (k = 1, מכסות נגזרות)" in hebrew
    assert not (tmp_path / "out").exists()


def test_a_dropout_model_file_in_hebrew(tmp_path: Path) -> None:
    panel = tmp_path / "panel"
    args = select_args(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, seed="s", out=panel)
    assert run_cli(args).exit_code == 0
    model = tmp_path / "rates.csv"
    model.write_text("feature,value,rate\ngender,nobody,0.1\ngender,nobody,2\n", encoding="utf-8")
    english, hebrew = both(
        ["alternates", "--record", panel / "record.json", "--pool", EXAMPLE / "pool.csv",
         "--budget", "3", "--seed", "a", "--dropout-model", model, "--out", tmp_path / "alt"]
    )  # fmt: skip
    assert "rates.csv, row 2: gender nobody is not a quota value" in english
    assert "rates.csv, row 3, column 'rate': rate '2' is not a number at least 0 and below 1" in (
        english
    )
    assert "rates.csv, שורה 2: gender nobody אינו ערך של מכסה" in hebrew
    assert "rates.csv, שורה 3, עמודה 'rate': השיעור '2' אינו מספר שהוא לפחות 0 ומתחת ל־1" in hebrew
    assert not (tmp_path / "alt").exists()


def test_a_seating_breach_is_a_message() -> None:
    from sortition.groups.evaluate import breaches
    from sortition.groups.problem import make_problem

    problem = make_problem(("a", "b", "c", "d"), 2, 1, {})
    (breach,) = breaches(problem, ((0, 0, 0, 1),))
    assert breach == "round 1: table sizes 1 to 3 differ by more"
    assert isinstance(breach, Message)
    assert breach.text(translations("library", "he").gettext) == (
        "סבב 1: גודלי השולחנות 1 עד 3 נבדלים ביותר מאחד"
    )


def test_a_short_pseudonym_key_and_an_existing_one_in_hebrew(tmp_path: Path) -> None:
    key = tmp_path / "short.key"
    key.write_bytes(b"12345")
    args = select_args(
        EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, seed="s", out=tmp_path / "o"
    )
    english, hebrew = both([*args, "--pseudonym-key", key])
    assert (
        "short.key: holds 5 bytes; a pseudonym key needs at least 16 (create one with "
        "'sortition new-key FILE' and keep it with the pool, not with the record)"
    ) in english
    assert (
        "short.key: יש בו 5 בתים; מפתח כינויים צריך לפחות 16 (צרו אחד עם 'sortition new-key FILE' "
        "ושמרו אותו עם המאגר, לא עם הרשומה)"
    ) in hebrew
    assert not (tmp_path / "o").exists()
    english, hebrew = both(["new-key", key])
    assert "short.key: already exists: a new key would change every pseudonym" in english
    assert "short.key: כבר קיים: מפתח חדש היה משנה כל כינוי" in hebrew
    assert key.read_bytes() == b"12345"


def test_a_malformed_record_in_hebrew(tmp_path: Path) -> None:
    record = _replacement_record(tmp_path)
    data = json.loads(record.read_text(encoding="utf-8"))
    data["dropouts"] = "everyone"
    record.write_text(json.dumps(data), encoding="utf-8")
    english, hebrew = both(["verify", record])
    assert "replacement.json: invalid record: 'dropouts' must be a list" in english
    assert "replacement.json: רשומה לא תקינה: 'dropouts' חייב להיות רשימה" in hebrew


def test_unknown_audit_algorithms_in_hebrew(tmp_path: Path) -> None:
    args = ["audit", "--pool", EXAMPLE / "pool.csv", "--quotas", EXAMPLE / "quotas.csv", "-k", 20,
            "--seed", "s", "--algorithms", "legacy,magic", "--out", tmp_path / "a"]  # fmt: skip
    english, hebrew = both(args)
    assert "--algorithms: unknown algorithm(s) magic (known: " in english
    assert "--algorithms: אלגוריתמים לא מוכרים magic (המוכרים: " in hebrew
