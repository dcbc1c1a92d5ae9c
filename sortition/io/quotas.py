"""Read a quota file: feature,value,min,max (also category,name / category,feature /
category,value), with optional min_flex,max_flex.

Headers are matched ignoring case and surrounding spaces. Any other column (the Sortition
Foundation's files often carry ``percentage`` or ``notes``) is ignored with a warning naming it, as
the Foundation's own tools ignore it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sortition.errors import N_, InputError, Message, Problem, problem
from sortition.io.tables import PathLike, Table, find_column, read_table
from sortition.model import Quotas, ValueQuota

# The layouts in use: (feature column, value column).
_LAYOUTS = (
    ("feature", "value"),
    ("category", "name"),
    ("category", "feature"),
    ("category", "value"),
)
_NUMBERS = ("min", "max")
_FLEX = ("min_flex", "max_flex")


@dataclass(frozen=True)
class QuotaFile:
    """A quota file as read: the canonical ``Quotas`` and the warnings to show the organiser."""

    quotas: Quotas
    warnings: tuple[str, ...]


def read_quotas(path: PathLike) -> Quotas:
    """Read and validate a quota file; every structural problem is reported at once (exit 2)."""
    return read_quota_file(path).quotas


def read_quota_file(path: PathLike) -> QuotaFile:
    """``read_quotas`` with its warnings (the ignored columns)."""
    return parse_quota_file(read_table(path))


def parse_quota_file(table: Table) -> QuotaFile:
    """Validate every row of a quota table; every structural problem is reported at once.

    The header must hold one layout's feature and value columns (feature,value, the Sortition
    Foundation's, wins over the others; two of the others at once are ambiguous), and min and max;
    min_flex and max_flex are optional; other columns are ignored with a warning.
    """
    name, header = table.name, table.header
    layout = _layout(table)
    known = set(layout) | set(_NUMBERS) | set(_FLEX)
    position = {key: find_column(header, key) for key in known}
    rows: dict[tuple[str, str], ValueQuota] = {}
    first_row: dict[tuple[str, str], int] = {}
    problems: list[Problem] = []
    for index, record in table.frame.iterrows():
        row = Table.row_number(int(str(index)))
        cells = {key: str(record[pos]).strip() for key, pos in position.items() if pos is not None}
        feature, value = cells[layout[0]], cells[layout[1]]
        numbers, row_problems = _row_numbers(table, layout, position, cells, row)
        key2 = (feature, value)
        if feature and value and key2 in rows:
            row_problems.append(
                problem(
                    N_("{feature} {value} already has a quota (row {first})"),
                    file=name,
                    row=row,
                    column=header[_pos(position, layout[1])],
                    feature=feature,
                    value=value,
                    first=first_row[key2],
                )
            )
        problems += row_problems
        low, high = numbers["min"], numbers["max"]
        if not row_problems and low is not None and high is not None:
            rows[key2] = ValueQuota(
                feature, value, low, high, numbers["min_flex"], numbers["max_flex"]
            )
            first_row[key2] = row
    if not problems and not rows:
        problems.append(problem(N_("has no quota rows"), file=name))
    if problems:
        raise InputError(problems)
    quotas = Quotas(tuple(rows[key] for key in sorted(rows)))
    return QuotaFile(quotas, _ignored_columns(table, layout, known))


def _layout(table: Table) -> tuple[str, str]:
    """The header's feature and value columns (one of ``_LAYOUTS``); InputError when it has
    none, more than one of the others, or no min or max column."""
    name, header = table.name, table.header
    keys = [c.strip().casefold() for c in header]
    layouts = [lay for lay in _LAYOUTS if lay[0] in keys and lay[1] in keys]
    if not layouts:
        raise InputError(
            [
                problem(
                    N_(
                        "the header must name the feature and value columns: feature,value,min,"
                        "max (or category,name / category,feature / category,value); {header}"
                    ),
                    file=name,
                    row=1,
                    header=table.header_message(),
                )
            ]
        )
    if len(layouts) > 1 and layouts[0] != _LAYOUTS[0]:
        found: str = ",".join(layouts[0])
        for lay in layouts[1:]:
            found = Message(N_("{layouts} and {layout}"), layouts=found, layout=",".join(lay))
        raise InputError(
            [
                problem(
                    N_(
                        "the header fits more than one layout ({layouts}), so it is not clear "
                        "which column holds the feature and which the value: keep only one pair"
                    ),
                    file=name,
                    row=1,
                    layouts=found,
                )
            ]
        )
    problems = [
        problem(N_("missing column"), file=name, row=1, column=c) for c in _NUMBERS if c not in keys
    ]
    if problems:
        raise InputError(problems)
    return layouts[0]


def _ignored_columns(table: Table, layout: tuple[str, str], known: set[str]) -> tuple[str, ...]:
    """The warning naming the columns a quota file does not use (none when there are none)."""
    ignored = [column for column in table.header if column.strip().casefold() not in known]
    if not ignored:
        return ()
    template = (
        N_(
            "{file}: ignored the columns {columns} (a quota file's columns are {layout}, min, max "
            "and optionally min_flex, max_flex)"
        )
        if len(ignored) > 1
        else N_(
            "{file}: ignored the column {columns} (a quota file's columns are {layout}, min, max "
            "and optionally min_flex, max_flex)"
        )
    )
    listed = ", ".join(f"'{column}'" for column in ignored)
    return (Message(template, file=table.name, columns=listed, layout=", ".join(layout)),)


def _row_numbers(
    table: Table,
    layout: tuple[str, str],
    position: dict[str, int | None],
    cells: dict[str, str],
    row: int,
) -> tuple[dict[str, int | None], list[Problem]]:
    """One quota row's min, max, min_flex and max_flex (None where empty or not a number), and
    its problems: an empty feature or value, a number that is not a whole number >= 0, min above
    max, min_flex above min, max_flex below max."""
    name, header = table.name, table.header
    problems = [
        problem(N_("is empty"), file=name, row=row, column=header[_pos(position, key)])
        for key in (layout[0], layout[1])
        if not cells[key]
    ]
    numbers: dict[str, int | None] = {}
    for key in _NUMBERS + _FLEX:
        text = cells.get(key, "")
        if key in _FLEX and text == "":
            numbers[key] = None
            continue
        parsed = _parse_count(text)
        if parsed is None:
            column = header[_pos(position, key)]
            problems.append(
                problem(
                    N_("'{text}' is not a whole number ≥ 0"),
                    file=name,
                    row=row,
                    column=column,
                    text=text,
                )
            )
        numbers[key] = parsed
    low, high = numbers["min"], numbers["max"]
    if low is not None and high is not None and low > high:
        problems.append(
            problem(
                N_("min {low} is above max {high}"),
                file=name,
                row=row,
                column="min",
                low=low,
                high=high,
            )
        )
    min_flex, max_flex = numbers["min_flex"], numbers["max_flex"]
    if min_flex is not None and low is not None and min_flex > low:
        problems.append(
            problem(
                N_("min_flex {flex} is above min {low}"),
                file=name,
                row=row,
                column="min_flex",
                flex=min_flex,
                low=low,
            )
        )
    if max_flex is not None and high is not None and max_flex < high:
        problems.append(
            problem(
                N_("max_flex {flex} is below max {high}"),
                file=name,
                row=row,
                column="max_flex",
                flex=max_flex,
                high=high,
            )
        )
    return numbers, problems


def _pos(position: dict[str, int | None], key: str) -> int:
    found = position[key]
    assert found is not None
    return found


def _parse_count(text: str) -> int | None:
    """A non-negative integer; '3.0' is accepted (spreadsheets write it), '3.5' and '-1' are not."""
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0 or number > 10**9 or number != int(number):
        return None
    return int(number)
