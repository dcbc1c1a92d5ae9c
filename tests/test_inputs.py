"""Reading quota and pool files as organisers have them: layouts, encodings, formats, ids."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sortition.errors import InputError
from sortition.io.pool import read_pool
from sortition.io.quotas import read_quotas

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
