"""CSV files for Excel (issue 18): with --excel-csv, or when an input CSV file starts with the
UTF-8 byte-order mark, every CSV file a command writes starts with one, so that Excel shows
Hebrew names; otherwise none does; records (JSON) and other files never do. Apart from the mark
the bytes are the same, and so is the record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sortition.io.outputs import csv_byte_order_mark, csv_encoding, write_csv
from sortition.io.tables import BYTE_ORDER_MARK, starts_with_bom
from tests.helpers import run_cli

# A pool and quotas written as an Israeli organiser's spreadsheet would have them: Hebrew column
# names and values.
POOL_HEADER = "מזהה,מגדר,אזור,כתובת"
POOL_ROWS = [
    f"{i},{'נקבה' if i % 2 else 'זכר'},{('צפון', 'מרכז', 'דרום')[i % 3]},רחוב {i}"
    for i in range(1, 31)
]
QUOTAS = "\n".join(
    [
        "feature,value,min,max",
        "מגדר,נקבה,3,3",
        "מגדר,זכר,3,3",
        "אזור,צפון,1,3",
        "אזור,מרכז,1,3",
        "אזור,דרום,1,3",
    ]
)


def write(path: Path, text: str, bom: bool = False) -> Path:
    path.write_bytes((BYTE_ORDER_MARK if bom else b"") + text.encode("utf-8"))
    return path


def inputs(tmp_path: Path, bom: bool = False) -> tuple[Path, Path]:
    folder = tmp_path / ("bom" if bom else "plain")
    folder.mkdir()
    pool = write(folder / "מאגר.csv", "\n".join([POOL_HEADER, *POOL_ROWS]) + "\n", bom)
    return pool, write(folder / "מכסות.csv", QUOTAS + "\n")


def select(tmp_path: Path, pool: Path, quotas: Path, out: str, *extra: str) -> Path:
    result = run_cli(["select", "--pool", pool, "--quotas", quotas, "-k", "6", "--id-column",
                      "מזהה", "--seed", "excel", *extra, "--out", tmp_path / out])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return tmp_path / out


def marked(folder: Path) -> dict[str, bool]:
    """Each file the command wrote (its marker aside) and whether it starts with the mark."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes().startswith(BYTE_ORDER_MARK)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != ".sortition-output"
    }


def test_select_writes_the_mark_exactly_when_asked(tmp_path: Path) -> None:
    pool, quotas = inputs(tmp_path)
    plain = select(tmp_path, pool, quotas, "plain-out")
    excel = select(tmp_path, pool, quotas, "excel-out", "--excel-csv")
    assert not any(marked(plain).values())
    files = marked(excel)
    assert (
        {name for name, mark in files.items() if mark}
        == {name for name in files if name.endswith(".csv")}
        >= {"selected.csv", "remaining.csv", "probabilities.csv"}
    )
    assert files["record.json"] is False
    for name in files:  # the same bytes but for the mark, the record too
        ours, theirs = (excel / name).read_bytes(), (plain / name).read_bytes()
        assert ours.removeprefix(BYTE_ORDER_MARK) == theirs, name
    header = (excel / "selected.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == POOL_HEADER


def test_a_pool_with_the_mark_gives_outputs_with_it(tmp_path: Path) -> None:
    pool, quotas = inputs(tmp_path, bom=True)
    assert starts_with_bom(pool)
    folder = select(tmp_path, pool, quotas, "out")
    files = marked(folder)
    assert files["selected.csv"] and files["remaining.csv"] and files["probabilities.csv"]
    assert not files["record.json"]
    record = json.loads((folder / "record.json").read_text(encoding="utf-8"))
    assert len(record["panel"]) == 6
    verified = run_cli(["verify", folder / "record.json", "--pool", pool, "--quotas", quotas])
    assert verified.exit_code == 0, verified.stdout


def test_the_selected_file_with_the_mark_is_read_back(tmp_path: Path) -> None:
    """An output with the mark is an input like any other (groups seats it) and passes the mark
    on."""
    pool, quotas = inputs(tmp_path)
    folder = select(tmp_path, pool, quotas, "panel", "--excel-csv")
    result = run_cli(["groups", "--panel", folder / "selected.csv", "--id-column", "מזהה",
                      "--size", "3", "--balance", "מגדר", "--seed", "t", "--out",
                      tmp_path / "tables"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    files = marked(tmp_path / "tables")
    assert files["groups.csv"] is True
    assert files["groups.json"] is False and files["summary.json"] is False
    assert files["seating.html"] is False


def test_invite_and_match(tmp_path: Path) -> None:
    registry = write(
        tmp_path / "registry.csv",
        "id,address,area\n" + "".join(f"r{i},רחוב {i},{'אבג'[i % 3]}\n" for i in range(40)),
        bom=True,
    )
    result = run_cli(["invite", "--registry", registry, "--letters", "10", "--stratify-by",
                      "area", "--seed", "s", "--ids-are-public",
                      "--out", tmp_path / "letters"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    files = marked(tmp_path / "letters")
    assert files["invitations.csv"] and files["allocation.csv"] and not files["record.json"]
    answers = write(tmp_path / "answers.csv", "address,name\nרחוב 1,א\nרחוב 2,ב\n")
    result = run_cli(["match", "--invitations", tmp_path / "letters" / "invitations.csv",
                      "--registrations", answers, "--on", "address",
                      "--out", tmp_path / "stage2"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert all(marked(tmp_path / "stage2").values())  # invitations.csv had the mark


def test_generate_with_and_without(tmp_path: Path) -> None:
    for name, extra in (("plain", []), ("excel", ["--excel-csv"])):
        result = run_cli(["generate", "--n", "50", "-k", "10", "--features", "2", "--seed", "g",
                          *extra, "--out", tmp_path / name])  # fmt: skip
        assert result.exit_code == 0, result.stderr
    assert marked(tmp_path / "plain") == {"pool.csv": False, "quotas.csv": False}
    assert marked(tmp_path / "excel") == {"pool.csv": True, "quotas.csv": True}
    for name in ("pool.csv", "quotas.csv"):
        excel = (tmp_path / "excel" / name).read_bytes()
        assert excel.removeprefix(BYTE_ORDER_MARK) == (tmp_path / "plain" / name).read_bytes()


def test_generate_registry_with_the_mark(tmp_path: Path) -> None:
    result = run_cli(["generate-registry", "--rows", "30", "--seed", "g", "--excel-csv",
                      "--out", tmp_path / "reg"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert marked(tmp_path / "reg") == {"registry.csv": True}


def test_the_mark_is_scoped(tmp_path: Path) -> None:
    assert csv_encoding() == "utf-8"
    with csv_byte_order_mark():
        assert csv_encoding() == "utf-8-sig"
        write_csv(tmp_path / "a.csv", ["שם"], [["א"]])
        with csv_byte_order_mark(False):
            write_csv(tmp_path / "b.csv", ["שם"], [["א"]])
    write_csv(tmp_path / "c.csv", ["שם"], [["א"]])
    assert csv_encoding() == "utf-8"
    assert [starts_with_bom(tmp_path / n) for n in ("a.csv", "b.csv", "c.csv")] == [
        True,
        False,
        False,
    ]
    (tmp_path / "d.json").write_bytes(BYTE_ORDER_MARK + b"{}")
    assert not starts_with_bom(tmp_path / "d.json")  # not a CSV or text file
    assert not starts_with_bom(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    "command",
    ["select", "commit", "draw", "replace", "alternates", "audit", "invite", "match", "groups",
     "generate", "generate-registry"],
)  # fmt: skip
def test_every_command_that_writes_csv_offers_it(command: str) -> None:
    result = run_cli([command, "--help"])
    assert "--excel-csv" in result.stdout


def test_the_page_keeps_the_mark_of_an_uploaded_pool(tmp_path: Path) -> None:
    """A pool saved from Excel as "CSV UTF-8" gives a draw whose CSV files have the mark on disk
    (the page's "CSV for Excel" download leaves them as they are); the record has none."""
    pytest.importorskip("fastapi")
    from tests.test_web import EXAMPLE, client, finish_run, new_project

    browser = client(tmp_path / "data")
    project = new_project(browser)
    pool = BYTE_ORDER_MARK + (EXAMPLE / "pool.csv").read_bytes()
    files = {
        "pool": ("pool.csv", pool, "text/csv"),
        "quotas": ("quotas.csv", (EXAMPLE / "quotas.csv").read_bytes(), "text/csv"),
    }
    response = browser.post(
        f"{project}/inputs", files=files, data={"k": "20", "household_columns": "address,postcode"}
    )
    assert response.status_code == 200, response.text
    run = finish_run(browser, project)
    selected = browser.get(f"{run}/files/selected.csv").content
    assert selected.startswith(BYTE_ORDER_MARK)
    assert browser.get(f"{run}/files/selected.csv?excel=1").content == selected
    assert not browser.get(f"{run}/files/record.json").content.startswith(BYTE_ORDER_MARK)
