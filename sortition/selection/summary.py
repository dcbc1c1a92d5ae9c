"""The one-screen summary: per feature value, the quota, the pool and the panel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def format_summary(rows: list[SummaryRow], pool_size: int, k: int) -> str:
    """A plain-text table; percentages are of the pool and of the panel."""
    with_panel = any(r.panel is not None for r in rows)
    header = ["feature", "value", "quota", "pool", "pool %"]
    if with_panel:
        header += ["panel", "panel %", ""]
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
            line += [str(panel), f"{100 * panel / k:.1f}", "ok" if r.met else "QUOTA NOT MET"]
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
