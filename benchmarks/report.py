"""The results document of ``python -m benchmarks`` as a Markdown table and a log-log plot.

``python -m benchmarks.report RESULTS.json`` (re)writes ``RESULTS.md`` and ``RESULTS.png``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

OURS = "sortition"  # as in suite.py
PEER = "sortition-algorithms"
COLUMNS = (
    "case",
    "n",
    "k",
    "features",
    "types",
    "households",
    "algorithm",
    "ours",
    "peer",
    "peer / ours",
    "min p (ours)",
    "min p (peer)",
    "peak MB (ours / peer)",
)


def seconds_text(record: dict[str, Any] | None) -> str:
    """A run's time as the table shows it: 1.23 s, > 600 s (over limit), skipped, error."""
    if record is None:
        return "–"
    status = str(record["status"])
    if status == "ok":
        return f"{_significant(float(record['seconds']))} s"
    if status == "over limit":
        return f"> {record['limit']:g} s (over limit)"
    if status == "skipped":
        return "skipped"
    return "error"


def ratio_text(ours: dict[str, Any] | None, peer: dict[str, Any] | None) -> str:
    """Peer time / our time; '>' when the peer stopped at its limit, '<' when we did."""
    if ours is None or peer is None:
        return "–"
    states = (ours["status"], peer["status"])
    if states == ("ok", "ok") and ours["seconds"] > 0:
        return f"{_significant(peer['seconds'] / ours['seconds'])}x"
    if states == ("ok", "over limit") and ours["seconds"] > 0:
        return f"> {_significant(peer['limit'] / ours['seconds'])}x"
    if states == ("over limit", "ok"):
        return f"< {_significant(peer['seconds'] / ours['limit'])}x"
    return "–"


def _significant(value: float) -> str:
    """Three significant figures, thousands separated: 0.0123, 4.56, 789, 12,300."""
    if value >= 100:
        return f"{round(value, -len(str(int(value))) + 3):,.0f}"
    return f"{value:.3g}"


def _probability(record: dict[str, Any] | None) -> str:
    if record is None or record.get("min_probability") is None:
        return "–"
    return f"{float(record['min_probability']):.6f}"


def _memory(record: dict[str, Any] | None) -> str:
    if record is None or record.get("peak_memory_bytes") is None:
        return "–"
    return f"{record['peak_memory_bytes'] / 2**20:,.0f}"


def table_rows(document: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row per (case, algorithm), in the order the cases ran."""
    by_key: dict[tuple[str, str, str], dict[str, Any]] = {}
    cases: dict[str, dict[str, Any]] = {}
    algorithms: list[str] = []
    for record in document["cases"]:
        by_key[(record["case"], record["tool"], record["algorithm"])] = record
        cases.setdefault(record["case"], record)
        if record["algorithm"] not in algorithms:
            algorithms.append(record["algorithm"])
    peer_ran = any(record["tool"] == PEER for record in document["cases"])
    rows = []
    for name, first in cases.items():
        for algorithm in algorithms:
            ours = by_key.get((name, OURS, algorithm))
            peer = by_key.get((name, PEER, algorithm))
            if ours is None and peer is None:
                continue
            peer_time = seconds_text(peer)
            if peer is None and peer_ran and algorithm == "leximin":
                peer_time = "– (needs Gurobi)"
            elif peer is not None and peer.get("algorithm_run") not in (None, "none", algorithm):
                peer_time += f" (ran {peer['algorithm_run']})"
            rows.append(
                (
                    name,
                    f"{first['n']:,}",
                    str(first["k"]),
                    str(first["features"]),
                    f"{first['types']:,}",
                    "–" if first["households"] is None else f"{first['households']:,}",
                    algorithm,
                    seconds_text(ours),
                    peer_time,
                    ratio_text(ours, peer),
                    _probability(ours),
                    _probability(peer),
                    f"{_memory(ours)} / {_memory(peer)}",
                )
            )
    return rows


def markdown(document: dict[str, Any], plot_name: str | None = None) -> str:
    """The table, the machine and the limits, and the plot when there is one."""
    host = document["machine"]
    memory = host.get("memory_bytes")
    limits = document["limits"]
    versions = ", ".join(f"{k} {v}" for k, v in document["versions"].items() if v)
    lines = [
        f"# Benchmark results, {document['date']}",
        "",
    ]
    if document.get("note"):
        lines += [f"**{document['note']}**", ""]
    lines += [
        f"Machine: {host['processor']}, {host['cores']} cores"
        + (f", {memory / 2**30:.0f} GiB" if memory else "")
        + f", {host['system']}, Python {host['python']}. Versions: {versions}.",
        "",
        f"Command: `{document['command']}`",
        "",
        "Time limit per case: "
        + ", ".join(
            f"{who} {limits[key]:g} s"
            for key, who in (("ours", "ours"), ("peer", "the peer's"))
            if limits.get(key)
        )
        + ("" if limits.get("peer") else " (no peer runs)")
        + ". Times are the selection call alone (not reading the files), on a machine shared with"
        " other work: take them as approximate. '> X s (over limit)' is a run stopped at its"
        " limit, so a ratio against it is a bound ('>' or '<'). 'skipped': a smaller case of the"
        " same sweep went over the limit. LEGACY times one draw and has no exact probabilities."
        " Peak memory is the child process's maximum resident size (reading the files included).",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(document)]
    errors = [r for r in document["cases"] if str(r["status"]).startswith("error")]
    if errors:
        lines += ["", "Errors:", ""]
        lines += [
            f"- {r['case']}, {'ours' if r['tool'] == OURS else 'peer'} {r['algorithm']}: "
            + str(r["status"]).removeprefix("error: ")
            for r in errors
        ]
    if plot_name:
        lines += ["", f"![time against pool size]({plot_name})"]
    return "\n".join(lines) + "\n"


def plot(document: dict[str, Any], path: Path) -> None:
    """Log-log time against pool size, one line per (tool, algorithm).

    One panel per sweep run (pool size; households), lines through its cases, and a last panel
    with every case run as points (shared instances included). A run that went over its limit
    is a hollow triangle at the limit (a dotted line).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [r for r in document["cases"] if r["status"] in ("ok", "over limit")]
    panels = [
        (sweep, [r for r in records if sweep in r.get("sweeps", [])])
        for sweep in ("pool size", "households")
    ]
    panels = [(sweep, chosen) for sweep, chosen in panels if chosen]
    panels.append(("every case run", records))
    figure, axes = plt.subplots(
        1, len(panels), figsize=(6.5 * len(panels), 4.8), squeeze=False, sharey=True
    )
    colours = {
        "legacy": "tab:grey",
        "maximin": "tab:blue",
        "leximin": "tab:red",
        "nash": "tab:green",
        "goldilocks": "tab:orange",
    }
    for axis, (title, chosen) in zip(axes[0], panels, strict=True):
        lines = sorted({(r["tool"], r["algorithm"]) for r in chosen})
        for tool, algorithm in lines:
            points = sorted(
                (r["n"], r["seconds"] if r["status"] == "ok" else r["limit"], r["status"])
                for r in chosen
                if (r["tool"], r["algorithm"]) == (tool, algorithm)
            )
            colour = colours.get(algorithm, "black")
            style = "-" if tool == OURS else "--"
            label = f"{'ours' if tool == OURS else 'peer'} {algorithm}"
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            if title not in _SWEEP_TITLES:
                style = "none"  # different instances: points, no line between them
            marker = "o" if tool == OURS else "s"
            axis.plot(
                xs, ys, linestyle=style, color=colour, label=label, marker=marker, markersize=4
            )
            over = [(x, y) for x, y, status in points if status != "ok"]
            if over:
                axis.plot(
                    [x for x, _ in over],
                    [y for _, y in over],
                    "^",
                    color=colour,
                    markerfacecolor="white",
                    markersize=9,
                )
        for limit in sorted({r["limit"] for r in chosen}):
            axis.axhline(limit, color="grey", linestyle=":", linewidth=1)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("pool size n")
        axis.set_title(title + (" (realistic7, k = 150)" if title in _SWEEP_TITLES else ""))
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    axes[0][0].set_ylabel("seconds (hollow triangle: stopped at the limit)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


_SWEEP_TITLES = ("pool size", "households")


def write_reports(json_path: Path) -> tuple[Path, Path]:
    """``<stem>.md`` and ``<stem>.png`` beside ``<stem>.json``."""
    document = json.loads(json_path.read_text(encoding="utf-8"))
    png = json_path.with_suffix(".png")
    plot(document, png)
    md = json_path.with_suffix(".md")
    md.write_text(markdown(document, png.name), encoding="utf-8")
    return md, png


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m benchmarks.report RESULTS.json", file=sys.stderr)
        return 2
    for path in write_reports(Path(args[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
