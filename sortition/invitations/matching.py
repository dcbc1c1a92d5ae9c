"""From stage 1 to stage 2: keep the registrations that answer an invitation.

A registration matches when its values in the ``--on`` columns equal an invited row's values,
each compared as a household cell is (``sortition.households.normalise_cell``: NFKC, case
folding, whitespace runs to one space, none at the ends), since people type their address by
hand. A registration with an empty ``--on`` cell matches nothing. The matches form the pool for
stage 2 (``pool.csv``); the others go to ``rejected.csv`` with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sortition.errors import N_, InputError, problem
from sortition.households import normalise_cell
from sortition.io.outputs import atomic_output_dir, write_csv
from sortition.io.tables import Table, find_column, read_table

REASON_COLUMN = "reason"


@dataclass(frozen=True)
class MatchResult:
    header: list[str]
    pool: list[list[str]]
    rejected: list[list[str]]  # each row followed by its reason


def _positions(table: Table, on: Sequence[str]) -> list[int]:
    positions, missing = [], []
    for column in on:
        position = find_column(table.header, column)
        if position is None:
            missing.append(column)
        else:
            positions.append(position)
    if missing:
        raise InputError(
            [
                problem(
                    N_("has no column '{name}' (--on); its columns are {columns}"),
                    file=table.name,
                    row=1,
                    name=column,
                    columns=", ".join(table.header),
                )
                for column in missing
            ]
        )
    return positions


def match_registrations(
    invitations_path: Path, registrations_path: Path, on: Sequence[str]
) -> MatchResult:
    if not on:
        raise InputError([problem(N_("--on needs at least one column"))])
    invitations = read_table(invitations_path)
    registrations = read_table(registrations_path)
    invited_at = _positions(invitations, on)
    registered_at = _positions(registrations, on)
    invited = {
        tuple(normalise_cell(str(row[p])) for p in invited_at)
        for row in invitations.frame.itertuples(index=False)
    }
    pool: list[list[str]] = []
    rejected: list[list[str]] = []
    for row in registrations.frame.itertuples(index=False):
        cells = [str(v) for v in row]
        key = tuple(normalise_cell(cells[p]) for p in registered_at)
        empty = [
            registrations.header[p]
            for p, value in zip(registered_at, key, strict=True)
            if value == ""
        ]
        if empty:
            rejected.append([*cells, f"empty {', '.join(empty)}"])
        elif key in invited:
            pool.append(cells)
        else:
            rejected.append([*cells, "no invitation matches"])
    return MatchResult(list(registrations.header), pool, rejected)


def write_match(result: MatchResult, out: Path, force: bool) -> list[Path]:
    reason = REASON_COLUMN
    while reason in result.header:
        reason = "_" + reason
    with atomic_output_dir(out, force) as staging:
        write_csv(staging / "pool.csv", result.header, result.pool)
        write_csv(staging / "rejected.csv", [*result.header, reason], result.rejected)
    return [out / "pool.csv", out / "rejected.csv"]
