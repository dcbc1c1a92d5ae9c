"""seating.html: a printable seating plan in one self-contained file (no scripts, no fonts or
images fetched): one page per round listing each table's members, then a schedule with one line
per person (their table in every round). Names are isolated (``<bdi>``) so that Hebrew, Arabic and
other right-to-left names display correctly next to left-to-right text."""

from __future__ import annotations

from html import escape

from sortition.groups.evaluate import Seating, tables_of
from sortition.groups.problem import GroupsProblem

_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #111; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; border-bottom: 2px solid #333; }
.round { page-break-after: always; break-after: page; }
.tables { display: flex; flex-wrap: wrap; gap: 0.8em; }
.table { border: 1px solid #555; border-radius: 6px; padding: 0.4em 0.8em; min-width: 9em; }
.table h3 { margin: 0.2em 0; font-size: 1em; background: #e8eef7; padding: 0.2em; }
.table ul { margin: 0; padding-inline-start: 1.2em; }
table.schedule { border-collapse: collapse; }
table.schedule td, table.schedule th { border: 1px solid #999; padding: 0.15em 0.6em; }
@media print { body { margin: 0.5cm; } }
"""


def seating_html(
    problem: GroupsProblem,
    seating: Seating,
    names: tuple[str, ...] | None = None,
    ids: tuple[str, ...] | None = None,
) -> str:
    """The plan; with ``names``, each person is shown as their name and, smaller, their id:
    ``ids`` (the organiser's ids, in the problem's order) or else the problem's."""
    rounds = problem.rounds
    shown = problem.ids if ids is None else ids

    def _name(x: int) -> str:
        person = f'<bdi dir="auto">{escape(shown[x])}</bdi>'
        if names is None:
            return person
        return f'<bdi dir="auto">{escape(names[x])}</bdi> <small>{person}</small>'

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Seating plan</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Seating plan: {problem.people} people, {problem.tables} tables, "
        f"{rounds} round{'s' if rounds != 1 else ''}</h1>",
    ]
    for r in range(rounds):
        parts.append(f'<section class="round"><h2>Round {r + 1}</h2><div class="tables">')
        for t, members in enumerate(tables_of(seating, r, problem.tables)):
            items = "".join(f"<li>{_name(x)}</li>" for x in members)
            parts.append(
                f'<div class="table"><h3>Table {t + 1} ({len(members)})</h3><ul>{items}</ul></div>'
            )
        parts.append("</div></section>")
    header = "".join(f"<th>Round {r + 1}</th>" for r in range(rounds))
    parts.append(
        '<section><h2>Schedule</h2><table class="schedule"><thead><tr><th>Person</th>'
        f"{header}</tr></thead><tbody>"
    )
    for x in sorted(range(problem.people), key=lambda x: shown[x]):
        cells = "".join(f"<td>{seating[r][x] + 1}</td>" for r in range(rounds))
        parts.append(f"<tr><td>{_name(x)}</td>{cells}</tr>")
    parts.append("</tbody></table></section></body></html>")
    return "\n".join(parts) + "\n"
