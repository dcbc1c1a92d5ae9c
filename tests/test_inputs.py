"""Reading quota and pool files as organisers have them: layouts, encodings, formats, ids."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from sortition.errors import InputError
from sortition.io import tables
from sortition.io.pool import read_pool
from sortition.io.quotas import read_quota_file, read_quotas
from sortition.io.tables import read_table
from tests.helpers import run_cli, select_args

QUOTA_LAYOUTS = {
    "feature,value,min,max": "feature,value,min,max\ngender,female,1,2\ngender,male,1,2\n",
    "category,name,min,max": "category,name,min,max\ngender,female,1,2\ngender,male,1,2\n",
    "category,feature,min,max": "category,feature,min,max\ngender,female,1,2\ngender,male,1,2\n",
    "messy header": " Feature , VALUE,Min ,MAX\ngender , female ,1,2\ngender,male, 1 ,2\n",
}


@pytest.mark.parametrize("layout", sorted(QUOTA_LAYOUTS))
def test_quota_layouts(tmp_path: Path, layout: str) -> None:
    path = tmp_path / "quotas.csv"
    path.write_text(QUOTA_LAYOUTS[layout], encoding="utf-8")
    quotas = read_quotas(path)
    assert [(q.feature, q.value, q.min, q.max) for q in quotas.rows] == [
        ("gender", "female", 1, 2),
        ("gender", "male", 1, 2),
    ]


def test_flex_columns_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "quotas.csv"
    path.write_text(
        "feature,value,min,max,min_flex,max_flex\nage,young,2,4,1,6\nage,old,2,4,,\n",
        encoding="utf-8",
    )
    rows = {q.value: q for q in read_quotas(path).rows}
    assert (rows["young"].min_flex, rows["young"].max_flex) == (1, 6)
    assert (rows["old"].min_flex, rows["old"].max_flex) == (None, None)


def test_quotas_are_sorted_canonically(tmp_path: Path) -> None:
    path = tmp_path / "quotas.csv"
    path.write_text("feature,value,min,max\nz,b,0,1\nz,a,0,1\na,x,0,1\n", encoding="utf-8")
    quotas = read_quotas(path)
    assert [(q.feature, q.value) for q in quotas.rows] == [("a", "x"), ("z", "a"), ("z", "b")]


def _quotas(tmp_path: Path) -> Path:
    path = tmp_path / "quotas.csv"
    path.write_text(
        "feature,value,min,max\ngender,female,1,2\ngender,male,1,2\n"
        "city,ירושלים,0,3\ncity,القدس,0,3\n",
        encoding="utf-8",
    )
    return path


def test_csv_with_bom_and_non_latin_text(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    text = "id,name,gender,city\n1,נועה,female,ירושלים\n2,يوسف,male,القدس\n3,Ana,female,القدس\n"
    pool.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    quotas = read_quotas(_quotas(tmp_path))
    read = read_pool(pool, quotas)
    assert read.id_column == "id"
    assert read.pool.ids == ("1", "2", "3")
    assert read.table.frame[1].tolist() == ["נועה", "يوسف", "Ana"]


def test_semicolon_csv(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("id;gender;city\n1;female;القدس\n2;male;القدس\n", encoding="utf-8")
    read = read_pool(pool, read_quotas(_quotas(tmp_path)))
    assert read.pool.ids == ("1", "2")


def test_excel_and_parquet_read_like_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "ID": [10, 2, 33],
            "gender": ["female", "male", "female"],
            "city": ["ירושלים", "القدس", "القدس"],
        }
    )
    quotas = read_quotas(_quotas(tmp_path))
    frame.to_excel(tmp_path / "pool.xlsx", index=False)
    frame.to_parquet(tmp_path / "pool.parquet", index=False)
    frame.to_csv(tmp_path / "pool.csv", index=False)
    reads = [
        read_pool(tmp_path / name, quotas) for name in ("pool.csv", "pool.xlsx", "pool.parquet")
    ]
    for read in reads:
        assert read.pool.ids == ("10", "2", "33")  # ids are text, sorted as text
        assert read.pool.values.tolist() == reads[0].pool.values.tolist()


def test_ids_look_like_integers_but_stay_text(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("id,gender,city\n007,female,القدس\n7,male,القدس\n", encoding="utf-8")
    read = read_pool(pool, read_quotas(_quotas(tmp_path)))
    assert read.pool.ids == ("007", "7")


def test_id_column_guess_and_row_numbers(tmp_path: Path) -> None:
    quotas = read_quotas(_quotas(tmp_path))
    pool = tmp_path / "pool.csv"
    pool.write_text("nationbuilder_id,gender,city\nx,female,القدس\ny,male,القدس\n", "utf-8")
    assert read_pool(pool, quotas).id_column == "nationbuilder_id"
    pool.write_text("gender,city\nfemale,القدس\nmale,القدس\nmale,القدس\n", "utf-8")
    read = read_pool(pool, quotas)
    assert read.id_column is None
    assert read.pool.ids == ("0", "1", "2")
    pool.write_text("person,gender,city\nb,female,القدس\na,male,القدس\n", "utf-8")
    read = read_pool(pool, quotas, id_column="Person")
    assert read.pool.ids == ("a", "b")
    assert read.pool.source_rows.tolist() == [1, 0]


def test_values_match_case_insensitively_when_unambiguous(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("id,gender,city\n1, Female ,القدس\n2,MALE,القدس\n", encoding="utf-8")
    read = read_pool(pool, read_quotas(_quotas(tmp_path)))
    assert read.pool.values[:, 1].tolist() == [2, 3]  # gender female / male rows


def test_households_numbered_by_first_appearance_in_id_order(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text(
        "id,gender,city,street,postcode\n"
        "d,female,القدس,1 High St,AB1\n"
        "a,male,القدس,2 Low St,AB1\n"
        "c,male,القدس,1 High St,AB1\n"
        "b,female,القدس,,\n"
        "e,female,القدس,, AB1\n"
        "f,female,القدس,,ab1\n",
        encoding="utf-8",
    )
    read = read_pool(
        pool,
        read_quotas(_quotas(tmp_path)),
        household_columns=["street", "postcode"],
        allow_empty_household=True,
    )
    assert read.pool.ids == ("a", "b", "c", "d", "e", "f")
    assert read.pool.households is not None
    # b, e and f have an empty street: each a household of their own, never grouped
    assert read.pool.households.tolist() == [0, 1, 2, 2, 3, 4]
    assert "3 people have an empty household cell" in " ".join(read.warnings)


def test_warning_for_a_quota_value_nobody_has(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("id,gender,city\n1,female,القدس\n2,male,القدس\n", encoding="utf-8")
    read = read_pool(pool, read_quotas(_quotas(tmp_path)))
    assert any("ירושלים" in w for w in read.warnings)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("id,gender,city\n1,female,Paris\n1,robot,القدس\n,male,القدس\n", "utf-8")
    with pytest.raises(InputError) as caught:
        read_pool(pool, read_quotas(_quotas(tmp_path)))
    messages = [str(p) for p in caught.value.problems]
    assert any("row 2" in m and "'city'" in m and "Paris" in m for m in messages)
    assert any("row 3" in m and "repeats row 2" in m for m in messages)
    assert any("row 3" in m and "robot" in m for m in messages)
    assert any("row 4" in m and "id is empty" in m for m in messages)


# Issue 13, defect 7: the Sortition Foundation's quota files as they are.


def test_extra_quota_columns_are_ignored_with_a_warning_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "categories.csv"
    path.write_text(
        "feature,value,min,max,min_flex,max_flex,percentage,notes\n"
        "gender,female,1,2,0,3,50%,check with council\n"
        "gender,male,1,2,0,3,50%,\n",
        encoding="utf-8",
    )
    read = read_quota_file(path)
    assert [(q.feature, q.value, q.min, q.max, q.max_flex) for q in read.quotas.rows] == [
        ("gender", "female", 1, 2, 3),
        ("gender", "male", 1, 2, 3),
    ]
    (warning,) = read.warnings
    assert "categories.csv" in warning and "'percentage', 'notes'" in warning
    assert "ignored" in warning
    assert read_quota_file(_quotas(tmp_path)).warnings == ()


def test_category_value_header(tmp_path: Path) -> None:
    path = tmp_path / "quotas.csv"
    path.write_text("Category,Value,Min,Max\ngender,female,1,2\ngender,male,1,2\n", "utf-8")
    quotas = read_quotas(path)
    assert [(q.feature, q.value) for q in quotas.rows] == [("gender", "female"), ("gender", "male")]


def test_feature_value_wins_and_two_other_layouts_are_ambiguous(tmp_path: Path) -> None:
    path = tmp_path / "quotas.csv"
    path.write_text("category,feature,value,min,max\nx,gender,female,1,2\n", "utf-8")
    read = read_quota_file(path)
    assert [(q.feature, q.value) for q in read.quotas.rows] == [("gender", "female")]
    assert "'category'" in read.warnings[0]
    path.write_text("category,name,value,min,max\ngender,female,f,1,2\n", "utf-8")
    with pytest.raises(InputError, match="more than one layout"):
        read_quotas(path)


# Issue 13, defect 11: files as organisers have them, and messages that point at the real problem.

POOL_ROWS = [["id", "gender", "city"], ["1", "female", "القدس"], ["2", "male", "ירושלים"]]


@pytest.mark.parametrize("delimiter", ["\t", "|", ";", ","])
def test_tab_pipe_semicolon_and_comma_separated_pools(tmp_path: Path, delimiter: str) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("\n".join(delimiter.join(r) for r in POOL_ROWS) + "\n", encoding="utf-8")
    read = read_pool(pool, read_quotas(_quotas(tmp_path)))
    assert read.pool.ids == ("1", "2")
    assert read.pool.values.tolist() == [[1, 2], [0, 3]]  # (city, gender) quota rows


def test_missing_feature_columns_are_one_message_showing_the_header(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("id gender city\n1 female القدس\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_pool(pool, read_quotas(_quotas(tmp_path)))
    (problem,) = caught.value.problems
    assert problem.row == 1
    assert "no columns for the quota features 'city', 'gender'" in problem.message
    assert "one column, 'id gender city'" in problem.message
    pool.write_text("id,gender,town\n1,female,القدس\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_pool(pool, read_quotas(_quotas(tmp_path)))
    (problem,) = caught.value.problems
    assert "no column for the quota feature 'city'" in problem.message
    assert "holds 'id', 'gender', 'town'" in problem.message


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_with_the_data_on_another_sheet_names_that_sheet(tmp_path: Path) -> None:
    quotas = read_quotas(_quotas(tmp_path))
    notes: list[list[object]] = [["Exported from the registration form on 1 May"]]
    path = _workbook(tmp_path / "pool.xlsx", {"Notes": notes, "Volunteers": list(POOL_ROWS)})
    with pytest.raises(InputError) as caught:
        read_pool(path, quotas)
    message = str(caught.value)
    assert "sheet 'Notes', the first of 2 sheets" in message
    assert "they seem to be on the sheet 'Volunteers'" in message
    path = _workbook(tmp_path / "empty.xlsx", {"Sheet1": [], "Volunteers": list(POOL_ROWS)})
    with pytest.raises(InputError) as caught:
        read_pool(path, quotas)
    assert "the first sheet 'Sheet1' is empty" in str(caught.value)
    assert "on the sheet 'Volunteers'" in str(caught.value)


def test_a_title_row_is_reported_with_the_row_that_looks_like_the_header(tmp_path: Path) -> None:
    quotas = read_quotas(_quotas(tmp_path))
    path = _workbook(
        tmp_path / "pool.xlsx", {"Sheet1": [["Climate assembly volunteers"], [], *POOL_ROWS]}
    )
    with pytest.raises(InputError) as caught:
        read_pool(path, quotas)
    (problem,) = caught.value.problems
    assert problem.row == 1
    assert "looks like a title ('Climate assembly volunteers')" in problem.message
    assert "row 3 looks like the header (id, gender, city)" in problem.message
    csv_path = tmp_path / "pool.csv"
    csv_path.write_text("Volunteers,,\n" + "\n".join(",".join(r) for r in POOL_ROWS), "utf-8")
    with pytest.raises(InputError, match="row 2 looks like the header"):
        read_pool(csv_path, quotas)


def test_repeated_column_names_in_xlsx_are_reported(tmp_path: Path) -> None:
    rows: list[list[object]] = [["id", "gender", "city", "gender"], ["1", "female", "القدس", "x"]]
    path = _workbook(tmp_path / "pool.xlsx", {"Sheet1": rows})
    with pytest.raises(InputError, match="column name repeated"):
        read_pool(path, read_quotas(_quotas(tmp_path)))


def test_a_file_whose_content_does_not_match_its_name(tmp_path: Path) -> None:
    quotas = read_quotas(_quotas(tmp_path))
    fake = tmp_path / "pool.xlsx"
    fake.write_text("\n".join(",".join(r) for r in POOL_ROWS), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_pool(fake, quotas)
    message = str(caught.value)
    assert "is not an Excel workbook" in message and "its first line is 'id,gender,city'" in message
    assert "engine" not in message
    book = _workbook(tmp_path / "book.xlsx", {"Sheet1": list(POOL_ROWS)})
    named_csv = tmp_path / "pool.csv"
    named_csv.write_bytes(book.read_bytes())
    with pytest.raises(InputError, match=r"is not UTF-8 CSV text.*Excel workbook"):
        read_pool(named_csv, quotas)
    old = tmp_path / "pool.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200))
    with pytest.raises(InputError, match="Excel 97-2003"):
        read_pool(old, quotas)
    unicode_text = tmp_path / "pool.txt"  # Excel's "Unicode Text": UTF-16 with a BOM, tabs
    unicode_text.write_text("\n".join("\t".join(r) for r in POOL_ROWS), encoding="utf-16")
    with pytest.raises(InputError, match="UTF-16 text"):
        read_pool(unicode_text, quotas)


def test_latin1_pool_names_row_and_column(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    text = "id,name,gender,city\n1,Ann,female,القدس\n2,Zoë,male,القدس\n"
    pool.write_bytes(text.encode("utf-8").replace("Zoë".encode(), "Zoë".encode("latin-1")))
    with pytest.raises(InputError) as caught:
        read_table(pool)
    (problem,) = caught.value.problems
    assert (problem.file, problem.row, problem.column) == ("pool.csv", 3, "name")
    assert "is not UTF-8" in problem.message and "0xeb" in problem.message


def test_invalid_utf8_found_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Multi-byte characters split between chunks are fine; quoted line breaks and blank lines
    are counted as the readers count rows."""
    monkeypatch.setattr(tables, "SCAN_CHUNK_BYTES", 7)
    path = tmp_path / "registry.csv"
    body = "id;note\n" + "".join(f'{i};"é\nè"\n\n' for i in range(40))
    path.write_bytes(body.encode("utf-8") + b"40;caf\xe9\n")
    problem = tables.invalid_utf8(path, ";", blank_lines_count=False)
    assert problem is not None
    assert (problem.file, problem.row, problem.column) == ("registry.csv", 42, "note")
    problem = tables.invalid_utf8(path, ";", blank_lines_count=True)
    assert problem is not None and problem.row == 82
    path.write_bytes(body.encode("utf-8"))
    assert tables.invalid_utf8(path, ";", blank_lines_count=False) is None


def test_an_unclosed_quote_is_reported_at_its_spreadsheet_row(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text('id,gender,city\n1,female,x\n2,male,x\n3,"female,x\n4,male,x\n', "utf-8")
    with pytest.raises(InputError) as caught:
        read_table(pool)
    (problem,) = caught.value.problems
    assert problem.row == 4
    assert "never closed" in problem.message


def test_quota_warnings_reach_the_user_in_every_command_that_reads_quotas(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text(
        "id,gender,city\n1,female,القدس\n2,male,ירושלים\n3,female,ירושלים\n4,male,القدس\n",
        encoding="utf-8",
    )
    quotas = tmp_path / "quotas.csv"
    quotas.write_text(
        "feature,value,min,max,notes\ngender,female,1,1,\ngender,male,1,1,\n"
        "city,ירושלים,0,2,\ncity,القدس,0,2,as agreed\n",
        encoding="utf-8",
    )
    inputs = ["--pool", pool, "--quotas", quotas, "-k", 2]
    seed = ["--seed", "s"]
    runs = {
        "check": ["check", *inputs],
        "select": select_args(pool, quotas, 2, seed="s", out=tmp_path / "select"),
        "commit": ["commit", *inputs, "--out", tmp_path / "commit"],
        "audit": [
            "audit",
            *inputs,
            *seed,
            "--algorithms",
            "legacy",
            "--draws",
            20,
            "--workers",
            1,
            "--out",
            tmp_path / "audit",
        ],
    }
    for command, args in runs.items():
        result = run_cli(args)
        assert result.exit_code == 0, (command, result.stderr)
        assert "warning: quotas.csv: ignored the column 'notes'" in result.stderr, command
    result = run_cli(["verify", tmp_path / "select" / "record.json", "--quotas", quotas])
    assert result.exit_code == 0, result.stdout
    assert "warning: quotas.csv: ignored the column 'notes'" in result.stderr


def test_tsv_pool_and_csv_named_xlsx_on_the_command_line(tmp_path: Path) -> None:
    quotas = _quotas(tmp_path)
    pool = tmp_path / "pool.tsv"
    pool.write_text("\n".join("\t".join(r) for r in POOL_ROWS) + "\n", encoding="utf-8")
    result = run_cli(["check", "--pool", pool, "--quotas", quotas, "-k", 2])
    assert result.exit_code == 0, result.stderr
    fake = tmp_path / "pool.xlsx"
    fake.write_text("\n".join(",".join(r) for r in POOL_ROWS) + "\n", encoding="utf-8")
    result = run_cli(["check", "--pool", fake, "--quotas", quotas, "-k", 2])
    assert result.exit_code == 2
    assert "pool.xlsx: is not an Excel workbook (.xlsx)" in result.stderr
    assert "give it a name ending in .csv" in result.stderr
