"""Read a CSV, Excel or Parquet file into a table of strings, with errors that name the file.

What is read, and what is said when it cannot be:

* CSV: UTF-8 (with or without BOM); the delimiter is the one of comma, semicolon, tab and ``|``
  that splits the first line into the most fields (comma on a tie). A byte that is not UTF-8 is
  reported with its row and column (``invalid_utf8``). An unclosed quote is reported at the
  spreadsheet row where the quoted field starts.
* Excel (.xlsx, .xlsm): the first sheet only. When the data seem to be elsewhere (the first sheet is
  empty, or another sheet has the columns the first lacks), the message names that sheet.
* Parquet (.parquet, .pq).
* The header must be row 1: a first row with at most one filled cell, followed within ten rows by a
  row with several, is reported as a title row (with the row that looks like the header), not read
  as a header.
* A file whose content does not match its name (a CSV renamed .xlsx, an old .xls workbook, a
  workbook named .csv) is reported as what it looks like, from its first bytes.

Rows in messages are spreadsheet rows: the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sortition.errors import N_, InputError, Message, Problem, problem, require_file

PathLike = str | os.PathLike[str]  # a file's path as text or as a Path

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
DELIMITERS = (",", ";", "\t", "|")  # in order of preference on a tie
DELIMITER_NAMES = {
    ",": N_("commas"),
    ";": N_("semicolons"),
    "\t": N_("tabs"),
    "|": N_("'|' (pipes)"),
}
TITLE_SCAN_ROWS = 10  # rows searched for the real header below a title row
SCAN_CHUNK_BYTES = 1 << 20  # bytes read at a time when looking for a byte that is not UTF-8
NOT_UTF8 = N_(
    "is not UTF-8 text (byte {byte}, at byte {offset} of the file); it seems to be saved in an "
    "older encoding (such as Latin-1 or Windows-1252): save it as 'CSV UTF-8'"
)
UNCLOSED_QUOTE = N_(
    'a quote (") opens a field here that is never closed, so the rest of the file would be one '
    "cell: close the quote or remove it"
)


@dataclass(frozen=True)
class Table:
    """A file's header and rows, every cell a string ('' when empty), in file order.

    ``frame`` has 0-based integer index; data row ``i`` is row ``i + 2`` in messages (the header is
    row 1, as a spreadsheet shows it). ``source`` says how the file was read (the delimiter, or the
    sheet), and ``other_sheets`` holds the header row of each other sheet of a workbook, for
    messages.
    """

    name: str
    header: list[str]
    frame: pd.DataFrame
    source: str = ""
    other_sheets: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @staticmethod
    def row_number(index: int) -> int:
        return index + 2

    def header_description(self) -> str:
        """What the header row holds, for a message about a missing column."""
        return str(self.header_message())

    def header_message(self) -> Problem:
        """``header_description`` as a part of a message an entry layer can translate."""
        columns = [c for c in self.header if c.strip()]
        # " ({source})" has no words of its own: the source is a Message, translated in its turn
        read = Message(" ({source})", source=self.source) if self.source else ""
        if not columns:
            return problem(N_("the header row{read} is empty"), read=read)
        listed = ", ".join(f"'{c}'" for c in columns)
        if len(columns) == 1 and not self.other_sheets:
            return problem(
                N_(
                    "the header row{read} holds one column, {columns}: if the file's columns "
                    "are separated by another character, save it with commas"
                ),
                read=read,
                columns=listed,
            )
        return problem(N_("the header row{read} holds {columns}"), read=read, columns=listed)

    def columns_elsewhere(self, wanted: Sequence[str]) -> str | None:
        """The first other sheet whose header has every ``wanted`` column, if any."""
        keys = {w.strip().casefold() for w in wanted}
        for sheet, header in self.other_sheets:
            if keys <= {c.strip().casefold() for c in header}:
                return sheet
        return None

    def missing_columns_hint(self, wanted: Sequence[str]) -> str:
        """Why ``wanted`` columns may be missing: the header found, and a sheet that has them."""
        return str(self.missing_columns_message(wanted))

    def missing_columns_message(self, wanted: Sequence[str]) -> Problem:
        """``missing_columns_hint`` as a part of a message an entry layer can translate."""
        sheet = self.columns_elsewhere(wanted)
        if sheet is None:
            return self.header_message()
        return problem(
            N_(
                "{header}; they seem to be on the sheet '{sheet}', but only the first sheet is "
                "read: move that sheet to the front, or save it as CSV"
            ),
            header=self.header_message(),
            sheet=sheet,
        )


BYTE_ORDER_MARK = b"\xef\xbb\xbf"
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")


def starts_with_bom(path: Path) -> bool:
    """Whether ``path`` is a CSV or text file that begins with the UTF-8 byte-order mark (as
    Excel's "CSV UTF-8" writes them). An Excel or Parquet file, or one that cannot be read,
    does not."""
    if path.suffix.lower() not in TEXT_SUFFIXES:
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(3) == BYTE_ORDER_MARK
    except OSError:
        return False


def read_table(path: PathLike) -> Table:
    """Read ``path`` by its suffix: .xlsx (Excel), .parquet, else CSV (UTF-8, BOM or not)."""
    path = Path(path)
    name = path.name
    require_file(path)
    suffix = path.suffix.lower()
    check_content(path, suffix)
    source = ""
    other_sheets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    try:
        if suffix in EXCEL_SUFFIXES:
            frame, source, other_sheets = _read_excel(path)
        elif suffix in PARQUET_SUFFIXES:
            frame = _read_parquet(path)
        else:
            frame, delimiter = _read_csv(path)
            source = Message(
                N_("columns separated by {delimiter}"),
                delimiter=Message(DELIMITER_NAMES[delimiter]),
            )
    except InputError:
        raise
    except Exception as exc:
        raise InputError([_reader_problem(name, exc)]) from None
    header = [str(c) for c in frame.columns]
    _check_header(name, header)
    frame.columns = pd.Index(range(len(header)))
    return Table(name=name, header=header, frame=frame, source=source, other_sheets=other_sheets)


def detect_delimiter(line: str) -> str:
    """The delimiter that splits a header line into the most fields (comma on a tie)."""
    best, fields = ",", 0
    for delimiter in DELIMITERS:
        count = len(next(csv.reader([line], delimiter=delimiter), []))
        if count > fields:
            best, fields = delimiter, count
    return best


def _reader_problem(name: str, exc: Exception) -> Problem:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match:
        expected, line, saw = match.groups()
        return problem(
            N_("row {line} has {saw} fields where the header has {expected}"),
            file=name,
            line=line,
            saw=saw,
            expected=expected,
        )
    match = re.search(r"EOF inside string starting at row (\d+)", text)
    if match:
        # pandas counts rows from 0 (the header); a spreadsheet counts from 1.
        return problem(UNCLOSED_QUOTE, file=name, row=int(match.group(1)) + 1)
    return problem(N_("cannot be read: {reason}"), file=name, reason=text)


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        first = raw.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
        problem_at = invalid_utf8(path, detect_delimiter(first), blank_lines_count=True)
        bad = problem_at or problem(N_("is not UTF-8 text"), file=path.name)
        raise InputError([bad]) from None
    if not text.strip():
        raise InputError([problem(N_("is empty"), file=path.name)])
    first_line = text.splitlines()[0]
    delimiter = detect_delimiter(first_line)
    _check_title_row(path.name, _first_rows(text, delimiter))
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
    return _drop_blank_rows(frame), delimiter


def _first_rows(text: str, delimiter: str) -> list[list[str]]:
    """The first rows of a CSV text as cells (blank lines as empty rows); [] if unparsable."""
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        return list(itertools.islice(reader, TITLE_SCAN_ROWS + 1))
    except csv.Error:
        return []


def _read_excel(
    path: Path,
) -> tuple[pd.DataFrame, str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """The first sheet (header row 1), how it was read, and the other sheets' header rows."""
    sheets = _sheet_headers(path)
    names = [name for name, _ in sheets]
    grid = pd.read_excel(
        path, sheet_name=0, header=None, dtype=str, keep_default_na=False, na_filter=False
    ).fillna("")
    first = names[0] if names else "1"
    source = (
        Message(N_("sheet '{sheet}', the first of {count} sheets"), sheet=first, count=len(names))
        if len(names) > 1
        else Message(N_("sheet '{sheet}'"), sheet=first)
    )
    others = tuple(sheets[1:])
    if grid.empty:
        filled = [name for name, header in others if any(c.strip() for c in header)]
        empty = (
            N_(
                "the first sheet '{sheet}' is empty; only the first sheet is read: the data seem "
                "to be on the sheet '{other}'"
            )
            if filled
            else N_("the first sheet '{sheet}' is empty; only the first sheet is read")
        )
        other = filled[0] if filled else ""  # unused by the second template
        raise InputError([problem(empty, file=path.name, sheet=first, other=other)])
    rows = [[str(c) for c in row] for row in grid.head(TITLE_SCAN_ROWS + 1).to_numpy().tolist()]
    _check_title_row(
        path.name, rows, Message(N_(" (sheet '{sheet}')"), sheet=first) if len(names) > 1 else ""
    )
    header = rows[0]
    frame = grid.iloc[1:]
    frame.index = pd.RangeIndex(len(frame))
    frame.columns = pd.Index(header)
    return _drop_blank_rows(frame), source, others


def _sheet_headers(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """Every sheet's name and first non-empty row (within the first rows), in workbook order."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        out = []
        for sheet in workbook.worksheets:
            header: tuple[str, ...] = ()
            for row in sheet.iter_rows(max_row=TITLE_SCAN_ROWS + 1, values_only=True):
                cells = tuple("" if c is None else str(c) for c in row)
                if sum(1 for c in cells if c.strip()) > 1:
                    header = cells
                    break
            out.append((sheet.title, header))
        return out
    finally:
        workbook.close()


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


def _check_title_row(name: str, rows: Sequence[Sequence[str]], where: str = "") -> None:
    """A first row with at most one filled cell above a row with several is a title, not the
    header: say so, and which row looks like the header."""
    if len(rows) < 2:
        return
    filled = [c.strip() for c in rows[0] if c.strip()]
    if len(filled) > 1:
        return
    for number, row in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in row if c.strip()]
        if len(cells) > 1:
            first = (
                Message(N_("looks like a title ('{title}')"), title=filled[0])
                if filled
                else Message(N_("is empty"))
            )
            shown = ", ".join(cells[:8]) + (", ..." if len(cells) > 8 else "")
            raise InputError(
                [
                    problem(
                        N_(
                            "{first}{where}, but the header must be row 1; row {number} looks "
                            "like the header ({shown}): delete the rows above it"
                        ),
                        file=name,
                        row=1,
                        first=first,
                        where=where,
                        number=number,
                        shown=shown,
                    )
                ]
            )


_SIGNATURES = (
    (b"PK\x03\x04", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"),
    (b"PAR1", "parquet"),
    (b"%PDF", "pdf"),
    (b"\xff\xfe", "utf16"),
    (b"\xfe\xff", "utf16"),
)
_LOOKS_LIKE = {
    "zip": N_("an Excel workbook (.xlsx) or another ZIP archive"),
    "xls": N_(
        "an Excel 97-2003 workbook (.xls): open it in Excel and save it as an Excel Workbook "
        "(.xlsx) or as 'CSV UTF-8'"
    ),
    "parquet": N_("a Parquet file: give it a name ending in .parquet"),
    "pdf": N_("a PDF document"),
    "utf16": N_("UTF-16 text (Excel's 'Unicode Text'): save it as 'CSV UTF-8'"),
    "other": N_(
        "neither a workbook nor a Parquet file (perhaps text in an encoding other than UTF-8)"
    ),
}


def _content_kind(head: bytes) -> str:
    """What a file's first bytes say it is: zip, xls, parquet, pdf, utf16, text or other
    (text: UTF-8 without NUL bytes, a character cut at the end of ``head`` allowed)."""
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return "other"
    return "other" if b"\x00" in head else "text"


def check_content(path: Path, suffix: str) -> None:
    """Raise when the file's first bytes contradict its name (exit 2, saying what it looks like)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        return
    kind = _content_kind(head)
    if suffix in EXCEL_SUFFIXES:
        expected, what = "zip", Message(N_("an Excel workbook ({suffix})"), suffix=suffix)
    elif suffix in PARQUET_SUFFIXES:
        expected, what = "parquet", Message(N_("a Parquet file"))
    else:
        expected, what = "text", Message(N_("UTF-8 CSV text"))
    if kind == expected or (expected == "text" and kind == "other"):
        return  # a CSV reader says what is wrong with text better (and names the row)
    if kind == "text":
        first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
        shown = first[:60] + ("..." if len(first) > 60 else "")
        looks = Message(
            N_("text, probably CSV (its first line is '{line}'): give it a name ending in .csv"),
            line=shown,
        )
    elif kind == "zip" and expected == "text":
        looks = Message(
            N_("{kind}: if it is a workbook, give it a name ending in .xlsx"),
            kind=Message(_LOOKS_LIKE["zip"]),
        )
    else:
        looks = Message(_LOOKS_LIKE[kind])
    raise InputError(
        [
            problem(
                N_("is not {what}, though its name says so; it looks like {looks}"),
                file=path.name,
                what=what,
                looks=looks,
            )
        ]
    )


def invalid_utf8(path: Path, delimiter: str, *, blank_lines_count: bool) -> Problem | None:
    """The first byte of a CSV file that is not UTF-8, as a Problem naming its row and column.

    Reads the file in chunks (bounded memory). Rows are spreadsheet rows (the header is row 1);
    ``blank_lines_count`` says whether blank lines count as rows (the pool reader keeps them, the
    registry reader skips them). None when the whole file is UTF-8.
    """
    offset = _first_invalid_utf8(path)
    if offset is None:
        return None
    with path.open("rb") as handle:
        handle.seek(offset)
        byte = handle.read(1)[0]
    try:
        row, field = _record_at(path, offset, delimiter, blank_lines_count)
    except csv.Error:
        return problem(NOT_UTF8, file=path.name, byte=f"0x{byte:02x}", offset=offset)
    column = None
    if row > 1:
        with path.open("rb") as handle:
            first = handle.readline().decode("utf-8-sig", errors="replace").rstrip("\r\n")
        header = next(csv.reader([first], delimiter=delimiter), [])
        column = header[field] if field < len(header) else None
    return problem(
        NOT_UTF8, file=path.name, row=row, column=column, byte=f"0x{byte:02x}", offset=offset
    )


def field_count_problem(path: Path, delimiter: str, *, blank_lines_count: bool) -> Problem | None:
    """The first CSV record whose number of fields differs from the header's, as a Problem naming
    its spreadsheet row (a quote that is never closed makes its record run to the end of the
    file: then the message says so). Reads the file as a stream; None when every record fits."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, [])
        row = 1
        for record in reader:
            if not record and not blank_lines_count:
                continue
            row += 1
            if record and len(record) != len(header):
                last = next(reader, None) is None
                if last and any("\n" in cell for cell in record):
                    return problem(UNCLOSED_QUOTE, file=path.name, row=row)
                return problem(
                    N_("has {saw} fields where the header has {expected}"),
                    file=path.name,
                    row=row,
                    saw=len(record),
                    expected=len(header),
                )
    return None


def _first_invalid_utf8(path: Path) -> int | None:
    chunk_bytes = SCAN_CHUNK_BYTES
    decoder = codecs.getincrementaldecoder("utf-8")()
    position = 0  # bytes handed to the decoder so far
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(chunk_bytes)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                return position - pending + error.start
            if not chunk:
                return None
            position += len(chunk)


def _record_at(path: Path, offset: int, delimiter: str, blank_lines_count: bool) -> tuple[int, int]:
    """(spreadsheet row, 0-based field) of the CSV record holding byte ``offset``, parsing only
    the bytes before it (valid UTF-8) followed by a stand-in character."""
    reader = csv.reader(_lines_before(path, offset), delimiter=delimiter)
    row, fields = 0, 0
    for record in reader:
        if record or blank_lines_count:
            row += 1
        fields = len(record)
    return row, max(fields - 1, 0)


def _lines_before(path: Path, offset: int) -> Iterator[str]:
    """The text of the first ``offset`` bytes as lines ending in '\\n', the last one followed
    by a stand-in for the byte at ``offset`` (so that byte's record is the last one parsed)."""
    chunk_bytes = SCAN_CHUNK_BYTES
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    left = offset
    carry = ""
    with path.open("rb") as handle:
        while left > 0:
            chunk = handle.read(min(chunk_bytes, left))
            if not chunk:
                break
            left -= len(chunk)
            carry += decoder.decode(chunk, final=left == 0)
            *lines, carry = carry.split("\n")
            for line in lines:
                yield line + "\n"
    yield carry + "?"


def _check_header(name: str, header: list[str]) -> None:
    problems = []
    seen: dict[str, int] = {}
    for position, column in enumerate(header, start=1):
        key = column.strip().casefold()
        if not key or key.startswith("unnamed:"):
            problems.append(
                problem(N_("column {position} has no name"), file=name, row=1, position=position)
            )
        elif key in seen:
            problems.append(
                problem(
                    N_("column name repeated (columns {first} and {position})"),
                    file=name,
                    row=1,
                    column=column,
                    first=seen[key],
                    position=position,
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
