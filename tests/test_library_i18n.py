"""The other readers' problems in Hebrew, end to end as a user types them: the registry, the seed
sources, the --out folder, the panel and its rules for the table groups, the dropouts. The English
text of each stays word for word; the Hebrew one names the same file, row and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from sortition.dropouts.ids import IdList
from sortition.errors import InputError
from sortition.record.replacement import id_problems
from sortition.seeds import seed_from_beacon, seed_from_dice
from tests.helpers import EXAMPLE, run_cli, select_args


def both(args: list[object], code: int = 2) -> tuple[str, str]:
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
    from sortition.i18n import translations

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
