"""Read a CSV, Excel or Parquet file into a table of strings, with errors that name the file."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sortition.errors import InputError, Problem, require_file

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}


@dataclass(frozen=True)
class Table:
    """A file's header and rows, every cell a string ('' when empty), in file order.

    ``frame`` has 0-based integer index; data row ``i`` is row ``i + 2`` in messages (the header is
    row 1, as a spreadsheet shows it).
    """

    name: str
    header: list[str]
    frame: pd.DataFrame

    @staticmethod
    def row_number(index: int) -> int:
        return index + 2


def read_table(path: Path) -> Table:
    """Read ``path`` by its suffix: .xlsx (Excel), .parquet, else CSV (UTF-8, BOM or not)."""
    name = path.name
    require_file(path)
    suffix = path.suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES:
            frame = _read_excel(path)
        elif suffix in PARQUET_SUFFIXES:
            frame = _read_parquet(path)
        else:
            frame = _read_csv(path)
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(f"is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'", file=name)]
        ) from None
    except Exception as exc:
        raise InputError([Problem(f"cannot be read: {_reader_message(exc)}", file=name)]) from None
    header = [str(c) for c in frame.columns]
    _check_header(name, header)
    frame.columns = pd.Index(range(len(header)))
    return Table(name=name, header=header, frame=frame)


def _reader_message(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match:
        expected, line, saw = match.groups()
        return f"row {line} has {saw} fields where the header has {expected}"
    return text


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    if not text.strip():
        raise InputError([Problem("is empty", file=path.name)])
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    header = next(csv.reader([first_line], delimiter=delimiter))
    _check_header(path.name, header)
    # header=None: the header line fixes the field count, so a longer row is an error (with a
    # header, pandas would quietly turn an extra first field into an index).
    frame = pd.read_csv(
        io.StringIO(text),
        sep=delimiter,
        header=None,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        engine="c",
    )
    frame = frame.iloc[1:]
    frame.index = pd.RangeIndex(len(frame))
    frame.columns = pd.Index(header)
    return _drop_blank_rows(frame)


def _read_excel(path: Path) -> pd.DataFrame:
    frame = pd.read_excel(path, dtype=str, keep_default_na=False, na_filter=False)
    return _drop_blank_rows(frame.fillna(""))


def _read_parquet(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    out = pd.DataFrame(
        {c: frame[c].astype(object).where(frame[c].notna(), "").astype(str) for c in frame.columns}
    )
    return out


def _drop_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop rows whose every cell is empty (trailing blank lines), keeping row numbering."""
    if frame.empty:
        return frame
    cells = frame.astype(str)
    blank = (cells.apply(lambda col: col.str.strip()) == "").all(axis=1)
    return frame.loc[~blank]


def _check_header(name: str, header: list[str]) -> None:
    problems = []
    seen: dict[str, int] = {}
    for position, column in enumerate(header, start=1):
        key = column.strip().casefold()
        if not key or key.startswith("unnamed:"):
            problems.append(Problem(f"column {position} has no name", file=name, row=1))
        elif key in seen:
            problems.append(
                Problem(
                    f"column name repeated (columns {seen[key]} and {position})",
                    file=name,
                    row=1,
                    column=column,
                )
            )
        else:
            seen[key] = position
    if problems:
        raise InputError(problems)


def find_column(header: list[str], wanted: str) -> int | None:
    """Position of a column by name, ignoring case and surrounding spaces."""
    key = wanted.strip().casefold()
    for position, column in enumerate(header):
        if column.strip().casefold() == key:
            return position
    return None
