"""Bad input: a clear message naming file, row and column, a non-zero exit, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import run_cli, select_args

GOOD_QUOTAS = (
    "feature,value,min,max\ngender,female,1,2\ngender,male,1,2\nage,young,1,2\nage,old,1,2\n"
)
GOOD_POOL = (
    "id,name,gender,age\n"
    "1,Ann,female,young\n2,Bob,male,old\n3,Cai,female,old\n4,Dee,male,young\n5,Eve,female,old\n"
)

# name: (pool text, quotas text, extra args, expected fragments of the message)
CASES: dict[str, tuple[str | bytes, str, list[str], list[str]]] = {
    "missing quota column": (
        GOOD_POOL,
        "feature,value,min\ngender,female,1\n",
        [],
        ["quotas.csv", "row 1", "'max'", "missing column"],
    ),
    "no feature/value columns": (
        GOOD_POOL,
        "what,ever,min,max\na,b,1,2\n",
        [],
        ["quotas.csv", "row 1", "feature,value,min,max"],
    ),
    "min above max": (
        GOOD_POOL,
        GOOD_QUOTAS.replace("gender,male,1,2", "gender,male,3,2"),
        [],
        ["quotas.csv", "row 3", "'min'", "min 3 is above max 2"],
    ),
    "negative quota": (
        GOOD_POOL,
        GOOD_QUOTAS.replace("age,old,1,2", "age,old,-1,2"),
        [],
        ["quotas.csv", "row 5", "'min'", "'-1' is not a whole number"],
    ),
    "quota not an integer": (
        GOOD_POOL,
        GOOD_QUOTAS.replace("age,old,1,2", "age,old,1,2.5"),
        [],
        ["quotas.csv", "row 5", "'max'", "'2.5' is not a whole number"],
    ),
    "repeated quota row": (
        GOOD_POOL,
        GOOD_QUOTAS + "age,old,0,3\n",
        [],
        ["quotas.csv", "row 6", "already has a quota (row 5)"],
    ),
    "pool value with no quota row": (
        GOOD_POOL.replace("5,Eve,female,old", "5,Eve,female,ancient"),
        GOOD_QUOTAS,
        [],
        ["pool.csv", "row 6", "'age'", "'ancient' has no quota row"],
    ),
    "empty feature value": (
        GOOD_POOL.replace("5,Eve,female,old", "5,Eve,,old"),
        GOOD_QUOTAS,
        [],
        ["pool.csv", "row 6", "'gender'", "is empty"],
    ),
    "pool lacks a feature column": (
        GOOD_POOL.replace(",age", ",years"),
        GOOD_QUOTAS,
        [],
        ["pool.csv", "row 1", "no column for the quota feature 'age'"],
    ),
    "repeated id": (
        GOOD_POOL.replace("4,Dee", "2,Dee"),
        GOOD_QUOTAS,
        [],
        ["pool.csv", "row 5", "'id'", "id '2' repeats row 3"],
    ),
    "empty id": (
        GOOD_POOL.replace("4,Dee", ",Dee"),
        GOOD_QUOTAS,
        [],
        ["pool.csv", "row 5", "'id'", "id is empty"],
    ),
    "row with too many fields": (
        GOOD_POOL.replace("4,Dee,male,young", "4,Dee,male,young,extra"),
        GOOD_QUOTAS,
        [],
        ["pool.csv", "row 5 has 5 fields where the header has 4"],
    ),
    "repeated column name": (
        GOOD_POOL.replace("id,name,", "id,gender,"),
        GOOD_QUOTAS,
        [],
        ["pool.csv", "row 1", "'gender'", "column name repeated"],
    ),
    "not UTF-8": (
        GOOD_POOL.replace("Ann", "Ånn").encode("latin-1"),
        GOOD_QUOTAS,
        [],
        ["pool.csv, row 2, column 'name': is not UTF-8", "CSV UTF-8"],
    ),
    "unclosed quote": (
        GOOD_POOL.replace("5,Eve", '5,"Eve'),
        GOOD_QUOTAS,
        [],
        ["pool.csv, row 6: a quote", "never closed"],
    ),
    "title row": (
        "Volunteers\n" + GOOD_POOL,
        GOOD_QUOTAS,
        [],
        ["pool.csv, row 1: looks like a title ('Volunteers')", "row 2 looks like the header"],
    ),
    "columns separated by spaces": (
        GOOD_POOL.replace(",", " "),
        GOOD_QUOTAS,
        [],
        ["pool.csv, row 1: no columns for the quota features 'age', 'gender'", "one column"],
    ),
    "quota file with a title row": (
        GOOD_POOL,
        "Quotas for the assembly\n" + GOOD_QUOTAS,
        [],
        ["quotas.csv, row 1: looks like a title", "row 2 looks like the header"],
    ),
    "empty pool file": ("", GOOD_QUOTAS, [], ["pool.csv", "is empty"]),
    "header only": ("id,name,gender,age\n", GOOD_QUOTAS, [], ["pool.csv", "has no people"]),
    "household column missing": (
        GOOD_POOL,
        GOOD_QUOTAS,
        ["--household-columns", "address,postcode"],
        ["pool.csv", "row 1", "'address'", "household column not found"],
    ),
    "id column missing": (
        GOOD_POOL,
        GOOD_QUOTAS,
        ["--id-column", "member"],
        ["pool.csv", "row 1", "'member'", "id column not found"],
    ),
}


def _write(folder: Path, pool: str | bytes, quotas: str) -> tuple[Path, Path]:
    pool_path, quotas_path = folder / "pool.csv", folder / "quotas.csv"
    if isinstance(pool, bytes):
        pool_path.write_bytes(pool)
    else:
        pool_path.write_text(pool, encoding="utf-8")
    quotas_path.write_text(quotas, encoding="utf-8")
    return pool_path, quotas_path


@pytest.mark.parametrize("command", ["select", "check"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_case(tmp_path: Path, case: str, command: str) -> None:
    pool_text, quotas_text, extra, fragments = CASES[case]
    pool, quotas = _write(tmp_path, pool_text, quotas_text)
    before = {p: p.read_bytes() for p in (pool, quotas)}
    out = tmp_path / "out"
    if command == "select":
        args = select_args(pool, quotas, 2, *extra, seed="s", out=out)
    else:
        args = [command, "--pool", pool, "--quotas", quotas, "-k", 2, *extra]
    result = run_cli(args)
    assert result.exit_code == 2, result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert {p: p.read_bytes() for p in (pool, quotas)} == before  # inputs never modified


def test_missing_file(tmp_path: Path) -> None:
    _, quotas = _write(tmp_path, GOOD_POOL, GOOD_QUOTAS)
    result = run_cli(["check", "--pool", tmp_path / "nope.csv", "--quotas", quotas, "-k", 2])
    assert result.exit_code == 2
    assert "nope.csv" in result.stderr and "file not found" in result.stderr


def test_non_empty_out_is_refused_without_force(tmp_path: Path) -> None:
    pool, quotas = _write(tmp_path, GOOD_POOL, GOOD_QUOTAS)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    args = select_args(pool, quotas, 2, seed="s", out=out)
    result = run_cli(args)
    assert result.exit_code == 2
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    result = run_cli([*args, "--force"])  # --force replaces only what sortition wrote
    assert result.exit_code == 2 and "was not written by sortition" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_k_below_one_is_a_usage_error(tmp_path: Path) -> None:
    pool, quotas = _write(tmp_path, GOOD_POOL, GOOD_QUOTAS)
    result = run_cli(["check", "--pool", pool, "--quotas", quotas, "-k", 0])
    assert result.exit_code == 2


cell = st.text(alphabet=st.sampled_from(list('ab,;"\n\r 1-é\x00\ufeffמ')), max_size=6)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pool_text=st.one_of(
        st.lists(st.lists(cell, max_size=5), max_size=6).map(
            lambda rows: "\n".join(",".join(r) for r in rows)
        ),
        st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
        st.just(GOOD_POOL).flatmap(lambda base: st.integers(0, len(base)).map(lambda i: base[:i])),
    ),
    quotas_text=st.one_of(
        st.just(GOOD_QUOTAS),
        st.lists(st.lists(cell, max_size=5), max_size=5).map(
            lambda rows: "feature,value,min,max\n" + "\n".join(",".join(r) for r in rows)
        ),
    ),
)
def test_malformed_files_never_crash(tmp_path: Path, pool_text: str, quotas_text: str) -> None:
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    pool, quotas = _write(folder, pool_text, quotas_text)
    out = folder / "out"
    if out.exists():
        import shutil

        shutil.rmtree(out)
    result = run_cli(select_args(pool, quotas, 2, seed="s", out=out))
    assert result.exit_code in (0, 2, 3), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if result.exit_code != 0:
        assert not out.exists()
        assert result.stderr.strip()
