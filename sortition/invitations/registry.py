"""Reading a registry (address file, population register) in chunks, in bounded memory.

A registry is CSV (UTF-8, BOM or not; comma, semicolon, tab or ``|``, as
``sortition.io.tables.detect_delimiter`` decides) or Parquet. It is read as batches of
text columns: every cell a string, empty cells ``""``, surrounding spaces of ids, household and
stratum cells removed. Rows are numbered as everywhere in sortition: the header is row 1, the
first record row 2 (CSV blank lines are skipped and not counted).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sortition.errors import N_, InputError, Message, problem, require_file
from sortition.io.tables import (
    EXCEL_SUFFIXES,
    PARQUET_SUFFIXES,
    _check_header,
    check_content,
    detect_delimiter,
    field_count_problem,
    find_column,
    invalid_utf8,
)

CSV_BLOCK_BYTES = 16 << 20  # bytes of CSV parsed at a time
PARQUET_BATCH_ROWS = 500_000


@dataclass(frozen=True)
class RegistryColumns:
    """The columns the lottery reads, by their names in the file's header, and whether a person
    with an empty household cell is a household of their own (else that cell is bad input)."""

    id: str
    households: tuple[str, ...]
    stratum: str | None
    allow_empty_household: bool = False

    @property
    def names(self) -> list[str]:
        names = [self.id, *self.households]
        if self.stratum is not None:
            names.append(self.stratum)
        return list(dict.fromkeys(names))  # a column named twice (id and household) is read once


@dataclass(frozen=True)
class Registry:
    path: Path
    format: str  # "csv" | "parquet"
    header: tuple[str, ...]
    delimiter: str
    size: int  # bytes

    @property
    def name(self) -> str:
        return self.path.name


def open_registry(path: Path) -> Registry:
    """The registry's format and header (InputError naming the file when it cannot be read)."""
    require_file(path)
    size = path.stat().st_size
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        raise InputError(
            [
                problem(
                    N_("a registry is read as CSV (UTF-8) or Parquet: save it as one"),
                    file=path.name,
                )
            ]
        )
    check_content(path, suffix)
    if suffix in PARQUET_SUFFIXES:
        try:
            header = list(pq.ParquetFile(path).schema_arrow.names)
        except Exception as error:
            raise InputError(
                [problem(N_("cannot be read as Parquet: {reason}"), file=path.name, reason=error)]
            ) from None
        _check_header(path.name, header)
        return Registry(path, "parquet", tuple(header), ",", size)
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        line = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        line = first.decode("utf-8-sig", errors="replace").rstrip("\r\n")
        found = invalid_utf8(path, detect_delimiter(line), blank_lines_count=False)
        raise InputError([found or problem(N_("is not UTF-8 text"), file=path.name)]) from None
    if not line.strip():
        raise InputError([problem(N_("is empty or has no header line"), file=path.name)])
    delimiter = detect_delimiter(line)
    header = next(csv.reader([line], delimiter=delimiter))
    _check_header(path.name, header)
    return Registry(path, "csv", tuple(header), delimiter, size)


def resolve_columns(
    registry: Registry,
    id_column: str,
    household_columns: Sequence[str],
    stratify_by: str | None,
    allow_empty_household: bool = False,
) -> RegistryColumns:
    """The named columns as the header spells them; InputError for any that is missing."""
    if allow_empty_household and not household_columns:
        raise InputError([problem(N_("--allow-empty-household needs --household-columns"))])
    header = list(registry.header)
    problems = []

    def lookup(wanted: str, flag: str, why: str | Message) -> str:
        position = find_column(header, wanted)
        if position is None:
            problems.append(
                problem(
                    N_("has no column '{wanted}' ({flag}){why}; its columns are {columns}"),
                    file=registry.name,
                    row=1,
                    wanted=wanted,
                    flag=flag,
                    why=why,
                    columns=", ".join(header),
                )
            )
            return wanted
        return header[position]

    id_name = lookup(
        id_column,
        "--id-column",
        Message(
            N_(
                ": a registry needs an id column, since row numbers would depend on the "
                "file's order"
            )
        ),
    )
    households = tuple(lookup(c, "--household-columns", "") for c in household_columns)
    stratum = lookup(stratify_by, "--stratify-by", "") if stratify_by is not None else None
    if problems:
        raise InputError(problems)
    return RegistryColumns(id_name, households, stratum, allow_empty_household)


def _as_text(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not pa.types.is_string(array.type):
        array = array.cast(pa.string())
    return pc.fill_null(array, "")


def text_batch(batch: pa.RecordBatch | pa.Table, names: Sequence[str]) -> dict[str, pa.Array]:
    """The named columns of a batch as string arrays (nulls as ``""``)."""
    return {name: _as_text(batch.column(name)) for name in names}


def iter_batches(registry: Registry, names: Sequence[str] | None = None) -> Iterator[pa.Table]:
    """The registry in batches of rows (all columns, or ``names``), every column text."""
    columns = list(registry.header) if names is None else list(names)
    try:
        if registry.format == "parquet":
            handle = pq.ParquetFile(registry.path)
            for batch in handle.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
                yield pa.table(text_batch(batch, columns))
            return
        # The last column is always read: a quote left open in it swallows the rest of the file
        # into its last cell without any error from pyarrow (see _check_unclosed_quote).
        last = registry.header[-1]
        reading = columns if last in columns else [*columns, last]
        reader = pacsv.open_csv(
            registry.path,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, encoding="utf8"),
            # Quoted line breaks (addresses on two lines) may cross a block boundary.
            parse_options=pacsv.ParseOptions(delimiter=registry.delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in registry.header},
                include_columns=reading,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        rows, last_cell = 0, ""
        for batch in reader:
            if batch.num_rows:
                rows += batch.num_rows
                last_cell = str(batch.column(last)[batch.num_rows - 1].as_py() or "")
            yield pa.table(text_batch(batch, columns))
        _check_unclosed_quote(registry, rows + 1, last_cell)
    except InputError:
        raise
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if registry.format == "csv" and ("UTF8" in message or isinstance(error, UnicodeError)):
            # pyarrow names neither the row nor the byte: find them (the first bad byte).
            found = invalid_utf8(registry.path, registry.delimiter, blank_lines_count=False)
            if found is not None:
                raise InputError([found]) from None
        if registry.format == "csv" and "CSV parse error" in message:
            found = field_count_problem(registry.path, registry.delimiter, blank_lines_count=False)
            if found is not None:
                raise InputError([found]) from None
        raise InputError(
            [problem(N_("cannot be read: {reason}"), file=registry.name, reason=message)]
        ) from None


def _check_unclosed_quote(registry: Registry, row: int, last_cell: str) -> None:
    """A quote opened and never closed in the last column makes that field run to the end of the
    file, which pyarrow accepts: then the file ends with the last cell's own text (a closed quote
    would follow it). Raise naming the row where the quote opens."""
    if "\n" not in last_cell and "\r" not in last_cell:
        return
    tail = last_cell.encode("utf-8")
    with registry.path.open("rb") as handle:
        handle.seek(max(registry.size - len(tail), 0))
        ends_with_cell = handle.read() == tail
    if ends_with_cell:
        raise InputError(
            [
                problem(
                    N_(
                        'a quote (") opens a field here that is never closed, so the rest of the '
                        "file would be one cell: close the quote or remove it"
                    ),
                    file=registry.name,
                    row=row,
                    column=registry.header[-1],
                )
            ]
        )


def read_rows(
    registry: Registry, positions: Sequence[int], names: Sequence[str] | None = None
) -> dict[int, dict[str, str]]:
    """The rows at 0-based record ``positions`` (all columns or ``names``), read in one pass."""
    wanted = sorted(set(positions))
    found: dict[int, dict[str, str]] = {}
    offset = 0
    cursor = 0
    for batch in iter_batches(registry, names):
        end = offset + batch.num_rows
        stop = cursor
        while stop < len(wanted) and wanted[stop] < end:
            stop += 1
        if stop > cursor:
            local = pa.array([p - offset for p in wanted[cursor:stop]], type=pa.int64())
            taken = batch.take(local).to_pylist()
            for position, row in zip(wanted[cursor:stop], taken, strict=True):
                found[position] = row
            cursor = stop
        offset = end
        if cursor == len(wanted):
            break
    return found
