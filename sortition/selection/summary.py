"""The one-screen summary: per feature value, the quota, the pool and the panel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sortition.errors import N_
from sortition.model import Instance


@dataclass(frozen=True)
class SummaryRow:
    feature: str
    value: str
    min: int
    max: int
    pool: int
    panel: int | None

    @property
    def met(self) -> bool:
        return self.panel is None or self.min <= self.panel <= self.max


def summary_rows(instance: Instance, panel: np.ndarray | None = None) -> list[SummaryRow]:
    quotas = instance.quotas
    pool_counts = instance.pool.value_counts(len(quotas.rows))
    panel_counts = None if panel is None else instance.panel_counts(panel)
    return [
        SummaryRow(
            q.feature,
            q.value,
            q.min,
            q.max,
            int(pool_counts[v]),
            None if panel_counts is None else int(panel_counts[v]),
        )
        for v, q in enumerate(quotas.rows)
    ]


def _english(message: str) -> str:
    return message


def format_summary(
    rows: list[SummaryRow],
    pool_size: int,
    k: int,
    gettext: Callable[[str], str] = _english,
) -> str:
    """A plain-text table; percentages are of the pool and of the panel. Its headings and marks
    pass through ``gettext`` (an entry layer's ``library`` catalogue); the features and values
    are shown as the files hold them."""
    with_panel = any(r.panel is not None for r in rows)
    header = [gettext(word) for word in (N_("feature"), N_("value"), N_("quota"), N_("pool"))]
    header.append(gettext(N_("pool %")))
    if with_panel:
        header += [gettext(N_("panel")), gettext(N_("panel %")), ""]
    table = [header]
    for r in rows:
        line = [
            r.feature,
            r.value,
            f"{r.min}-{r.max}",
            str(r.pool),
            f"{100 * r.pool / pool_size:.1f}",
        ]
        if with_panel:
            panel = r.panel or 0
            mark = gettext(N_("ok")) if r.met else gettext(N_("QUOTA NOT MET"))
            line += [str(panel), f"{100 * panel / k:.1f}", mark]
        table.append(line)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    numeric = {2, 3, 4, 5, 6}
    lines = []
    for row in table:
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
