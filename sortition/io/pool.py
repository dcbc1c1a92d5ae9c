"""Read a pool file (the volunteers) against its quotas into the canonical ``Pool``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sortition.errors import InputError, Problem
from sortition.households import EMPTY_HOUSEHOLD_CELL, household_key, normalise_cell
from sortition.io.tables import Table, find_column, read_table
from sortition.model import Pool, Quotas

# Column names taken as the id column when --id-column is not given and no 'id' column exists.
ID_COLUMN_GUESSES = ("id", "nationbuilder_id", "person_id", "respondent_id")
MAX_LISTED_PROBLEMS = 50


@dataclass(frozen=True)
class PoolFile:
    """A pool as read: the canonical ``Pool`` and the raw table (to write rows back unchanged)."""

    pool: Pool
    table: Table
    id_column: str | None
    household_columns: tuple[str, ...]
    warnings: tuple[str, ...]
    allow_empty_household: bool = False


def read_pool(
    path: Path,
    quotas: Quotas,
    id_column: str | None = None,
    household_columns: Sequence[str] = (),
    allow_empty_household: bool = False,
) -> PoolFile:
    return parse_pool(read_table(path), quotas, id_column, household_columns, allow_empty_household)


def parse_pool(
    table: Table,
    quotas: Quotas,
    id_column: str | None = None,
    household_columns: Sequence[str] = (),
    allow_empty_household: bool = False,
) -> PoolFile:
    """Validate every row and map it to canonical form; all problems are reported at once.

    People with the same household key (``sortition.households``: cells compared after NFKC,
    case folding and collapsing whitespace) share a household. An empty household cell is a
    problem, unless ``allow_empty_household``: then each person with one is a household of
    their own (and a warning counts them).
    """
    name, header, frame = table.name, table.header, table.frame
    problems: list[Problem] = []
    if allow_empty_household and not household_columns:
        raise InputError([Problem("--allow-empty-household needs --household-columns")])

    id_position = _id_position(table, id_column)
    feature_positions: list[int] = []
    missing: list[str] = []
    for feature in quotas.features:
        position = find_column(header, feature)
        if position is None:
            missing.append(feature)
        feature_positions.append(-1 if position is None else position)
    if missing:
        listed = ", ".join(f"'{feature}'" for feature in missing)
        plural = len(missing) > 1
        what = "columns for the quota features" if plural else "column for the quota feature"
        problems.append(
            Problem(
                f"no {what} {listed}; {table.missing_columns_hint(missing)}",
                file=name,
                row=1,
            )
        )
    household_positions = []
    for column in household_columns:
        position = find_column(header, column)
        if position is None:
            problems.append(Problem("household column not found", file=name, row=1, column=column))
        household_positions.append(-1 if position is None else position)
    if problems:
        raise InputError(problems)
    if frame.empty:
        raise InputError([Problem("has no people in it", file=name)])

    index = frame.index.to_numpy()
    rows = index + 2
    n = len(frame)
    if id_position is None:
        ids = np.array([str(i) for i in range(n)], dtype=object)
    else:
        ids = frame[id_position].str.strip().to_numpy(dtype=object)
        empty = np.flatnonzero(ids == "")
        problems += [
            Problem("the id is empty", name, int(rows[i]), header[id_position]) for i in empty
        ]
        seen: dict[str, int] = {}
        for i, person in enumerate(ids):
            if person == "":
                continue
            if person in seen:
                problems.append(
                    Problem(
                        f"id '{person}' repeats row {seen[person]}",
                        name,
                        int(rows[i]),
                        header[id_position],
                    )
                )
            else:
                seen[person] = int(rows[i])

    values = np.zeros((n, len(quotas.features)), dtype=np.int64)
    for j, (feature, position) in enumerate(zip(quotas.features, feature_positions, strict=True)):
        lookup = _value_lookup(quotas, feature)
        cells = frame[position].str.strip()
        codes = cells.map(lambda text, lk=lookup: lk.get(text, lk.get(text.casefold(), -1)))
        column_values = codes.to_numpy(dtype=np.int64)
        for bad in np.flatnonzero(column_values < 0):
            i = int(bad)
            text = cells.iloc[i]
            message = (
                "is empty"
                if text == ""
                else f"value '{text}' has no quota row for feature '{feature}'"
            )
            problems.append(Problem(message, name, int(rows[i]), header[position]))
        values[:, j] = column_values

    keys: list[str | None] = []
    if household_positions:
        household_cells = frame[household_positions].to_numpy(dtype=object)
        keys = [household_key([str(cell) for cell in row]) for row in household_cells]
        if not allow_empty_household:
            for i in (i for i, key in enumerate(keys) if key is None):
                for position, cell in zip(household_positions, household_cells[i], strict=True):
                    if normalise_cell(str(cell)) == "":
                        problems.append(
                            Problem(EMPTY_HOUSEHOLD_CELL, name, int(rows[i]), header[position])
                        )

    if problems:
        shown = problems[:MAX_LISTED_PROBLEMS]
        if len(problems) > MAX_LISTED_PROBLEMS:
            shown.append(Problem(f"... and {len(problems) - MAX_LISTED_PROBLEMS} more problems"))
        raise InputError(shown)

    order = np.array(sorted(range(n), key=lambda i: ids[i]), dtype=np.int64)
    households = None
    if household_positions:
        households = _number_households([keys[i] for i in order])

    counts = np.bincount(values.ravel(), minlength=len(quotas.rows))
    warnings = tuple(
        f"nobody in the pool has {quota.feature} '{quota.value}' (its min is 0)"
        for quota, count in zip(quotas.rows, counts, strict=True)
        if count == 0 and quota.min == 0
    )
    alone = sum(key is None for key in keys)
    if alone:
        warnings += (
            f"{alone} {'person has' if alone == 1 else 'people have'} an empty household cell; "
            "each counts as a household of their own (--allow-empty-household)",
        )
    if id_position is None:
        warnings = (
            f"{name} has no id column ({', '.join(ID_COLUMN_GUESSES)}; or name one with "
            "--id-column): people are numbered by row, 0 for the first person (spreadsheet row "
            "2), and the output tables get these numbers as a first column 'id'",
            *warnings,
        )
    pool = Pool(
        ids=tuple(str(ids[i]) for i in order),
        values=values[order],
        households=households,
        source_rows=order,
    )
    return PoolFile(
        pool=pool,
        table=table,
        id_column=None if id_position is None else header[id_position],
        household_columns=tuple(header[p] for p in household_positions),
        warnings=warnings,
        allow_empty_household=allow_empty_household,
    )


def _id_position(table: Table, id_column: str | None) -> int | None:
    if id_column is not None:
        position = find_column(table.header, id_column)
        if position is None:
            raise InputError(
                [Problem("id column not found", file=table.name, row=1, column=id_column)]
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
