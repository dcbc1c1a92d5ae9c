"""The CSV files a run wrote, as organisers open them in Excel: an ``.xlsx`` workbook, or the
same CSV with a UTF-8 byte-order mark (without it Excel misreads Hebrew or Arabic names).

Both are made on request from the file on disk, which stays exactly what the library wrote (the
record's digests are of those bytes). In the workbook every cell is text, as in the CSV (ids such
as ``007`` stay as written), except the ``probability`` column, which is a number.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

BOM = "\ufeff".encode()
NUMERIC_COLUMNS = frozenset({"probability"})


def csv_for_excel(path: Path) -> bytes:
    """The CSV's bytes with a byte-order mark in front (unchanged if it already has one)."""
    data = path.read_bytes()
    return data if data.startswith(BOM) else BOM + data


def csv_to_xlsx(path: Path) -> bytes:
    """A one-sheet workbook of the CSV (the sheet named after the file)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=path.stem[:31] or "sheet")
    with path.open(encoding="utf-8-sig", newline="") as source:
        rows = csv.reader(source)
        header = next(rows, None)
        if header is not None:
            sheet.append(header)
            numeric = [name in NUMERIC_COLUMNS for name in header]
            for row in rows:
                sheet.append(
                    [
                        _number(cell) if numeric[i : i + 1] == [True] else cell
                        for i, cell in enumerate(row)
                    ]
                )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _number(cell: str) -> float | str:
    try:
        return float(cell)
    except ValueError:
        return cell
