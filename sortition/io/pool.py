"""Read a pool file (the volunteers) against its quotas into the canonical ``Pool``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sortition.errors import N_, InputError, Message, Problem, problem
from sortition.households import EMPTY_HOUSEHOLD_CELL, household_key, normalise_cell
from sortition.io.outputs import PRIVATE_FOLDER, private_folder, write_csv
from sortition.io.tables import PathLike, Table, find_column, read_table
from sortition.model import Pool, Quotas
from sortition.privacy.keys import PseudonymKey
from sortition.privacy.pseudonyms import Pseudonyms, pseudonymise

# Column names taken as the id column when --id-column is not given and no 'id' column exists.
ID_COLUMN_GUESSES = ("id", "nationbuilder_id", "person_id", "respondent_id")
MAX_LISTED_PROBLEMS = 50
ROW_ID_COLUMN = "id"  # the column selected.csv gains when ids are row numbers


@dataclass(frozen=True)
class PoolFile:
    """A pool as read: the canonical ``Pool`` and the raw table (to write rows back unchanged).

    With a pseudonym key the pool's ids are the pseudonyms (``pseudonyms`` says how they were
    made) and the canonical order is theirs; ``source_ids`` are the organiser's ids in the
    file's row order (row numbers as text without an id column), for the private table."""

    pool: Pool
    table: Table
    id_column: str | None
    household_columns: tuple[str, ...]
    warnings: tuple[str, ...]
    allow_empty_household: bool = False
    pseudonyms: Pseudonyms | None = None
    source_ids: tuple[str, ...] = ()


def read_pool(
    path: PathLike,
    quotas: Quotas,
    id_column: str | None = None,
    household_columns: Sequence[str] = (),
    allow_empty_household: bool = False,
    pseudonym_key: PseudonymKey | None = None,
) -> PoolFile:
    """Read and validate a pool file against the quotas' features (``parse_pool``)."""
    return parse_pool(
        read_table(path), quotas, id_column, household_columns, allow_empty_household, pseudonym_key
    )


def parse_pool(
    table: Table,
    quotas: Quotas,
    id_column: str | None = None,
    household_columns: Sequence[str] = (),
    allow_empty_household: bool = False,
    pseudonym_key: PseudonymKey | None = None,
) -> PoolFile:
    """Validate every row and map it to canonical form; all problems are reported at once.
    With ``pseudonym_key`` every id is replaced by its keyed pseudonym (sortition.privacy)
    before anything is sorted or numbered, so the canonical order is the pseudonyms'.

    People with the same household key (``sortition.households``: cells compared after NFKC,
    case folding and collapsing whitespace) share a household. An empty household cell is a
    problem, unless ``allow_empty_household``: then each person with one is a household of
    their own (and a warning counts them).
    """
    if allow_empty_household and not household_columns:
        raise InputError([problem(N_("--allow-empty-household needs --household-columns"))])
    id_position = _id_position(table, id_column)
    feature_positions, household_positions = _column_positions(table, quotas, household_columns)
    if table.frame.empty:
        raise InputError([problem(N_("has no people in it"), file=table.name)])

    problems: list[Problem] = []
    ids = _read_ids(table, id_position, problems)
    values = _read_values(table, quotas, feature_positions, problems)
    keys = _household_keys(table, household_positions, allow_empty_household, problems)
    if problems:
        shown = problems[:MAX_LISTED_PROBLEMS]
        if len(problems) > MAX_LISTED_PROBLEMS:
            more = len(problems) - MAX_LISTED_PROBLEMS
            shown.append(problem(N_("... and {count} more problems"), count=more))
        raise InputError(shown)

    source_ids = tuple(str(person) for person in ids)
    pseudonyms = None
    if pseudonym_key is not None:
        pseudonyms = pseudonymise(pseudonym_key, source_ids)
        ids = np.array(pseudonyms.names, dtype=object)
    order = np.array(sorted(range(len(ids)), key=lambda i: ids[i]), dtype=np.int64)
    households = None
    if household_positions:
        households = _number_households([keys[i] for i in order])
    pool = Pool(
        ids=tuple(str(ids[i]) for i in order),
        values=values[order],
        households=households,
        source_rows=order,
    )
    header = table.header
    return PoolFile(
        pool=pool,
        table=table,
        id_column=None if id_position is None else header[id_position],
        household_columns=tuple(header[p] for p in household_positions),
        warnings=_warnings(table.name, quotas, values, keys, id_position is None),
        allow_empty_household=allow_empty_household,
        pseudonyms=pseudonyms,
        source_ids=source_ids,
    )


def _column_positions(
    table: Table, quotas: Quotas, household_columns: Sequence[str]
) -> tuple[list[int], list[int]]:
    """The positions of the quota features' columns and of the household columns (InputError
    naming every one that is missing)."""
    name, header = table.name, table.header
    problems: list[Problem] = []
    feature_positions: list[int] = []
    missing: list[str] = []
    for feature in quotas.features:
        position = find_column(header, feature)
        if position is None:
            missing.append(feature)
        feature_positions.append(-1 if position is None else position)
    if missing:
        listed = ", ".join(f"'{feature}'" for feature in missing)
        template = (
            N_("no columns for the quota features {features}; {hint}")
            if len(missing) > 1
            else N_("no column for the quota feature {features}; {hint}")
        )
        hint = table.missing_columns_message(missing)
        problems.append(problem(template, file=name, row=1, features=listed, hint=hint))
    household_positions = []
    for column in household_columns:
        position = find_column(header, column)
        if position is None:
            problems.append(
                problem(N_("household column not found"), file=name, row=1, column=column)
            )
        household_positions.append(-1 if position is None else position)
    if problems:
        raise InputError(problems)
    return feature_positions, household_positions


def spreadsheet_rows(table: Table) -> list[int]:
    """Each person's row as a spreadsheet shows it (the header is row 1), in the file's order."""
    return [int(row) for row in _spreadsheet_rows(table)]


def _spreadsheet_rows(table: Table) -> np.ndarray:
    """Each person's row as a spreadsheet shows it (the header is row 1)."""
    return np.asarray(table.frame.index.to_numpy() + 2)


def _read_ids(table: Table, id_position: int | None, problems: list[Problem]) -> np.ndarray:
    """The ids (row numbers 0, 1, ... without an id column); an empty or repeated id is a
    problem."""
    n = len(table.frame)
    if id_position is None:
        return np.array([str(i) for i in range(n)], dtype=object)
    name, column, rows = table.name, table.header[id_position], _spreadsheet_rows(table)
    ids = table.frame[id_position].str.strip().to_numpy(dtype=object)
    problems += [
        problem(N_("the id is empty"), file=name, row=int(rows[i]), column=column)
        for i in np.flatnonzero(ids == "")
    ]
    seen: dict[str, int] = {}
    for i, person in enumerate(ids):
        if person == "":
            continue
        if person in seen:
            problems.append(
                problem(
                    N_("id '{id}' repeats row {first}"),
                    file=name,
                    row=int(rows[i]),
                    column=column,
                    id=person,
                    first=seen[person],
                )
            )
        else:
            seen[person] = int(rows[i])
    return ids


def _read_values(
    table: Table, quotas: Quotas, feature_positions: list[int], problems: list[Problem]
) -> np.ndarray:
    """(n, F) each person's quota row index per feature; an empty cell or a value without a
    quota row is a problem."""
    name, header, frame, rows = table.name, table.header, table.frame, _spreadsheet_rows(table)
    values = np.zeros((len(frame), len(quotas.features)), dtype=np.int64)
    for j, (feature, position) in enumerate(zip(quotas.features, feature_positions, strict=True)):
        lookup = _value_lookup(quotas, feature)
        cells = frame[position].str.strip()
        # each distinct text looked up once (a pool of a million has a handful per feature)
        found, distinct = pd.factorize(cells.to_numpy(dtype=object), use_na_sentinel=False)
        codes = np.array(
            [lookup.get(text, lookup.get(text.casefold(), -1)) for text in distinct],
            dtype=np.int64,
        )
        column_values = codes[found]
        for bad in np.flatnonzero(column_values < 0):
            i = int(bad)
            text = cells.iloc[i]
            row, column = int(rows[i]), header[position]
            problems.append(
                problem(N_("is empty"), file=name, row=row, column=column)
                if text == ""
                else problem(
                    N_("value '{value}' has no quota row for feature '{feature}'"),
                    file=name,
                    row=row,
                    column=column,
                    value=text,
                    feature=feature,
                )
            )
        values[:, j] = column_values
    return values


def _household_keys(
    table: Table,
    household_positions: list[int],
    allow_empty_household: bool,
    problems: list[Problem],
) -> list[str | None]:
    """Each person's household key (None for an empty household cell, a problem unless
    ``allow_empty_household``); no keys without household columns."""
    if not household_positions:
        return []
    name, header, rows = table.name, table.header, _spreadsheet_rows(table)
    household_cells = table.frame[household_positions].to_numpy(dtype=object)
    keys = [household_key([str(cell) for cell in row]) for row in household_cells]
    if not allow_empty_household:
        for i in (i for i, key in enumerate(keys) if key is None):
            for position, cell in zip(household_positions, household_cells[i], strict=True):
                if normalise_cell(str(cell)) == "":
                    problems.append(
                        problem(
                            EMPTY_HOUSEHOLD_CELL,
                            file=name,
                            row=int(rows[i]),
                            column=header[position],
                        )
                    )
    return keys


def _warnings(
    name: str, quotas: Quotas, values: np.ndarray, keys: list[str | None], row_ids: bool
) -> tuple[str, ...]:
    """What the organiser should know: row-number ids, values nobody has (min 0), people
    counted as households of their own."""
    counts = np.bincount(values.ravel(), minlength=len(quotas.rows))
    warnings: tuple[str, ...] = tuple(
        Message(
            N_("nobody in the pool has {feature} '{value}' (its min is 0)"),
            feature=quota.feature,
            value=quota.value,
        )
        for quota, count in zip(quotas.rows, counts, strict=True)
        if count == 0 and quota.min == 0
    )
    alone = sum(key is None for key in keys)
    if alone:
        template = (
            N_(
                "{count} person has an empty household cell; each counts as a household of "
                "their own (--allow-empty-household)"
            )
            if alone == 1
            else N_(
                "{count} people have an empty household cell; each counts as a household of "
                "their own (--allow-empty-household)"
            )
        )
        warnings += (Message(template, count=alone),)
    if row_ids:
        no_ids = N_(
            "{file} has no id column ({guesses}; or name one with --id-column): people are "
            "numbered by row, 0 for the first person (spreadsheet row 2), and the output tables "
            "get these numbers as a first column 'id'"
        )
        warnings = (Message(no_ids, file=name, guesses=", ".join(ID_COLUMN_GUESSES)), *warnings)
    return warnings


def _id_position(table: Table, id_column: str | None) -> int | None:
    if id_column is not None:
        position = find_column(table.header, id_column)
        if position is None:
            raise InputError(
                [problem(N_("id column not found"), file=table.name, row=1, column=id_column)]
            )
        return position
    for guess in ID_COLUMN_GUESSES:
        position = find_column(table.header, guess)
        if position is not None:
            return position
    return None


def _value_lookup(quotas: Quotas, feature: str) -> dict[str, int]:
    """Exact value text first; otherwise a case-insensitive match when it is unambiguous."""
    lookup: dict[str, int] = {}
    folded: dict[str, list[int]] = {}
    for v in quotas.value_indices(feature):
        text = quotas.rows[v].value
        lookup[text] = v
        folded.setdefault(text.casefold(), []).append(v)
    for key, found in folded.items():
        if len(found) == 1 and key not in lookup:
            lookup[key] = found[0]
    return lookup


def _number_households(keys_in_id_order: list[str | None]) -> np.ndarray:
    """Households 0, 1, ... by first appearance in id order; a person without a key (an empty
    household cell, allowed) is a household of their own."""
    numbers: dict[str, int] = {}
    out = np.empty(len(keys_in_id_order), dtype=np.int64)
    next_number = 0
    for i, key in enumerate(keys_in_id_order):
        if key is None:
            out[i] = next_number
            next_number += 1
            continue
        if key not in numbers:
            numbers[key] = next_number
            next_number += 1
        out[i] = numbers[key]
    return out


PSEUDONYM_TABLE = "pseudonyms.csv"


def write_pseudonym_table(folder: Path, pool_file: PoolFile) -> list[str]:
    """``folder/private/pseudonyms.csv`` (``id,pseudonym`` in the pool file's row order) when
    the ids were pseudonymised: the organiser's table from a volunteer to the name the record
    gives them. Returns the paths written, relative to ``folder``."""
    if pool_file.pseudonyms is None:
        return []
    rows = zip(pool_file.source_ids, pool_file.pseudonyms.names, strict=True)
    write_csv(private_folder(folder) / PSEUDONYM_TABLE, ["id", "pseudonym"], list(rows))
    return [f"{PRIVATE_FOLDER}/{PSEUDONYM_TABLE}"]


def write_pool_split(folder: Path, pool_file: PoolFile, panel: np.ndarray) -> None:
    """selected.csv and remaining.csv: the pool's original rows and columns, original order.

    A pool without an id column has row-number ids (0 for the first person row); they are then
    written as a first column ``id``, so that the files name the people as the record does."""
    table, pool = pool_file.table, pool_file.pool
    chosen = np.zeros(pool.size, dtype=bool)
    chosen[pool.source_rows[panel]] = True
    cells = table.frame.to_numpy(dtype=object)
    header = list(table.header)
    if pool_file.id_column is None:
        ids = np.empty(pool.size, dtype=object)
        ids[pool.source_rows] = pool.ids
        cells = np.column_stack([ids, cells]) if cells.size else ids.reshape(-1, 1)
        header = [ROW_ID_COLUMN, *header]
    write_csv(folder / "selected.csv", header, cells[chosen].tolist())
    write_csv(folder / "remaining.csv", header, cells[~chosen].tolist())
