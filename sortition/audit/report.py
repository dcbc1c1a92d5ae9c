"""The audit's pictures and report.html: one self-contained file (plots embedded as base64 PNG, no
script, no network) that a commissioner can read.

The PNGs are byte-identical across runs: matplotlib's default style is used whatever the user's
configuration, figures are drawn without pyplot's global state, and the PNG metadata that would
name the matplotlib version is left out.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.style
import numpy as np
from matplotlib.figure import Figure

from sortition.audit.metrics import Audit
from sortition.units import CERTIFIED_GAP

COLOURS = {
    "legacy": "#d62728",
    "leximin": "#1f77b4",
    "maximin": "#2ca02c",
    "nash": "#9467bd",
    "goldilocks": "#ff7f0e",
    "diversimax": "#8c564b",
}
# Distinct line styles, so that equal curves (LEXIMIN and MAXIMIN often are) stay visible.
LINESTYLES = {"legacy": "-", "leximin": "-", "maximin": (0, (6, 3)), "nash": (0, (1, 2))}
PNG_METADATA: dict[str, str | None] = {"Software": None}


@contextmanager
def plot_style() -> Iterator[None]:
    """matplotlib's default style, whatever the user's matplotlibrc, at a fixed resolution."""
    with (
        matplotlib.style.context("default"),
        matplotlib.rc_context({"svg.hashsalt": "sortition", "figure.dpi": 100, "savefig.dpi": 100}),
    ):
        yield


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata=PNG_METADATA)
    return buffer.getvalue()


def _finished(metrics: dict[str, Any]) -> dict[str, Any]:
    """The entries of the algorithms that finished (one that ran out of time has no figures)."""
    return {a: m for a, m in metrics.items() if not m.get("timed_out")}


def _colour(algorithm: str) -> str:
    return COLOURS.get(algorithm, "#7f7f7f")


def probability_curves_png(
    curves: Sequence[tuple[str, np.ndarray]], k_over_n: float | None, title: str
) -> bytes:
    """The Nature paper's figure: each curve's probabilities sorted increasingly against the
    percentile of pool members, with the equal-chance line k/n."""
    with plot_style():
        figure = Figure(figsize=(8, 4.8))
        axes = figure.subplots()
        for label, probability in curves:
            p = np.sort(np.asarray(probability, dtype=float))
            x = 100 * np.arange(len(p)) / len(p)
            key = label.split()[0].lower()
            axes.plot(
                x,
                p,
                label=label,
                color=_colour(key),
                linestyle=LINESTYLES.get(key, "-"),
                linewidth=1.8,
            )
        if k_over_n is not None:
            axes.axhline(k_over_n, color="black", linestyle="--", linewidth=1, label="k/n")
        axes.set_xlabel("volunteers, sorted by selection probability (percentile of the pool)")
        axes.set_ylabel("selection probability")
        axes.set_xlim(0, 100)
        axes.set_ylim(bottom=0)
        axes.set_title(title)
        axes.grid(True, alpha=0.3)
        axes.legend(loc="best")
        figure.tight_layout()
        return _png(figure)


def quota_bars_png(metrics: dict[str, Any], k: int) -> bytes:
    """Per feature value: the quota range (as a share of the panel), the pool share, and each
    algorithm's expected panel share (the algorithms that finished)."""
    metrics = _finished(metrics)
    algorithms = list(metrics)
    rows = metrics[algorithms[0]]["values"]
    with plot_style():
        legend_rows = (len(algorithms) + 3) // 2
        height = 1.4 + 0.32 * len(rows) + 0.25 * legend_rows
        figure = Figure(figsize=(8, height))
        axes = figure.subplots()
        y = np.arange(len(rows))[::-1]
        for i, row in enumerate(rows):
            low, high = row["min"] / k, row["max"] / k
            axes.barh(
                y[i],
                high - low,
                left=low,
                height=0.6,
                color="#cccccc",
                edgecolor="#888888",
                label="quota range" if i == 0 else None,
            )
        axes.scatter(
            [r["pool_share"] for r in rows],
            y,
            marker="x",
            color="black",
            zorder=3,
            label="share of the pool",
        )
        for offset, algorithm in enumerate(algorithms):
            shares = [r["expected_panel_share"] for r in metrics[algorithm]["values"]]
            axes.scatter(
                shares,
                y + 0.2 - 0.4 * offset / max(1, len(algorithms) - 1),
                marker="o",
                s=18,
                color=_colour(algorithm),
                zorder=4,
                label=f"expected panel share, {algorithm.upper()}",
            )
        axes.set_yticks(y, [f"{r['feature']}: {r['value']}" for r in rows])
        axes.set_xlabel("share of the panel (quota range) / of the pool")
        axes.set_xlim(left=0)
        axes.set_ylim(-0.8, len(rows) - 0.2)
        axes.grid(True, axis="x", alpha=0.3)
        axes.set_title("Quotas, pool and expected panel")
        figure.legend(loc="lower center", ncol=2, frameon=False)
        figure.tight_layout(rect=(0, (0.25 * legend_rows + 0.1) / height, 1, 1))
        return _png(figure)


# --------------------------------------------------------------------------- HTML

CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f0f0; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
code { font-size: 0.85rem; word-break: break-all; }
.ok { color: #1a7f37; } .bad { color: #b42318; font-weight: bold; }
.note { color: #555; font-size: 0.9rem; }
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _pct(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f} %"


def _diversity_section(images: dict[str, bytes]) -> str:
    if "diversity.png" not in images:
        return ""
    return f"""<h2>Diversity across intersections of features</h2>
{_img(images["diversity.png"], "expected and drawn diversity score of each algorithm")}
<p class="note">The diversity score (docs/diversity.md) adds, over every combination of features
with at most k cells and at least 2 volunteers a cell on average, how far each cell's count is
from an even share; lower is more diverse. Expected: exact over a fair algorithm's distribution,
a sample's mean for LEGACY.</p>"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _accuracy(m: dict[str, Any]) -> str:
    if m.get("accuracy") is None:
        return "sampled (see the bound above)"
    if m["accuracy"] < 1e-4:
        return "better than ± 0.01 %"
    return f"± {100 * m['accuracy']:.2g} %"


def _score(diversity: dict[str, Any] | None, key: str) -> str:
    return "–" if diversity is None else f"{diversity[key]:.2f}"


def _expected_diversity(m: dict[str, Any]) -> str:
    """The expected score: exact over a distribution, or a sample's mean ± its standard error."""
    diversity = m.get("diversity")
    if diversity is None or diversity["how"] == "exact":
        return _score(diversity, "expected")
    error = diversity.get("standard_error")
    spread = "" if error is None else f" ± {error:.2f}"
    return f"{diversity['expected']:.2f}{spread} ({diversity['samples']:,} draws)"


def diversity_png(metrics: dict[str, Any]) -> bytes | None:
    """Per algorithm: the expected diversity score (a bar) and the drawn panel's (a dot); None
    when no algorithm has one."""
    rows = [(a, m["diversity"]) for a, m in _finished(metrics).items() if "diversity" in m]
    if not rows:
        return None
    with plot_style():
        figure = Figure(figsize=(8, 1.2 + 0.45 * len(rows)))
        axes = figure.subplots()
        y = np.arange(len(rows))[::-1]
        for i, (algorithm, d) in enumerate(rows):
            axes.barh(y[i], d["expected"], height=0.6, color=_colour(algorithm), alpha=0.7)
            axes.scatter([d["drawn"]], [y[i]], marker="o", color="black", zorder=3)
        axes.set_yticks(y, [a.upper() for a, _ in rows])
        axes.set_xlabel(
            "diversity score: bar expected, dot the drawn panel (lower is more diverse)"
        )
        axes.set_xlim(left=0)
        axes.grid(True, axis="x", alpha=0.3)
        axes.set_title("Diversity across intersections of features")
        figure.tight_layout()
        return _png(figure)


def _optimum(m: dict[str, Any]) -> str:
    """The certificate, as the organiser reads it (docs/algorithms.md)."""
    certificate = m.get("certificate")
    if certificate is None:
        return "no objective (sampled)" if not m["exact"] else "no certificate"
    if certificate["gap"] <= CERTIFIED_GAP:
        return '<span class="ok">optimal (certified)</span>'
    return f"within {_pct(certificate['gap'], 2)} of the optimum (certified bound)"


def _metrics_table(metrics: dict[str, Any], k_over_n: float, reference: str | None) -> str:
    metrics = _finished(metrics)
    algorithms = list(metrics)
    lines: list[tuple[str, Any]] = [
        ("smallest selection probability", lambda m: _pct(m["min"])),
        (
            "99 % upper bound on the smallest (sampled)",
            lambda m: _pct(m.get("min_upper_99")),
        ),
        ("largest selection probability", lambda m: _pct(m["max"])),
        ("mean (k/n = " + _pct(k_over_n) + ")", lambda m: _pct(m["mean"])),
        ("smallest ÷ k/n", lambda m: f"{m['min_over_k_n']:.3f}"),
        ("Gini coefficient", lambda m: _pct(m["gini"], 1)),
        ("geometric mean", lambda m: _pct(m["geometric_mean"])),
        (
            f"share of the pool below the {(reference or 'leximin').upper()} minimum "
            "(beyond the accuracy)",
            lambda m: _pct(m["share_below_leximin_min"], 1),
        ),
        ("accuracy of each probability (relative)", _accuracy),
        ("diversity score, expected (lower is more diverse)", _expected_diversity),
        ("diversity score of the drawn panel", lambda m: _score(m.get("diversity"), "drawn")),
        ("objective", _optimum),
        ("how computed", lambda m: "exact" if m["exact"] else f"{m['draws']:,} draws × 2"),
        (
            "drawn panel: quotas met",
            lambda m: (
                '<span class="ok">yes</span>'
                if m["panel"]["quotas_met"]
                else '<span class="bad">NO</span>'
            ),
        ),
        (
            "drawn panel: one per household",
            lambda m: (
                "no rule"
                if m["panel"]["household_rule"] is None
                else (
                    '<span class="ok">yes</span>'
                    if m["panel"]["household_rule"]
                    else '<span class="bad">NO</span>'
                )
            ),
        ),
    ]
    rows = [[_e(label), *(cell(metrics[a]) for a in algorithms)] for label, cell in lines]
    return _table(["", *(a.upper() for a in algorithms)], rows)


def _values_table(metrics: dict[str, Any]) -> str:
    metrics = _finished(metrics)
    algorithms = list(metrics)
    first = metrics[algorithms[0]]["values"]
    rows = []
    for i, row in enumerate(first):
        rows.append(
            [
                _e(f"{row['feature']}: {row['value']}"),
                f"{row['min']}–{row['max']}",
                _pct(row["pool_share"], 1),
                *(_pct(metrics[a]["values"][i]["expected_panel_share"], 1) for a in algorithms),
            ]
        )
    header = ["value", "quota", "pool", *(f"expected panel, {a.upper()}" for a in algorithms)]
    return _table(header, rows)


def _summary(metrics: dict[str, Any], k_over_n: float) -> str:
    items = []
    for algorithm, m in metrics.items():
        if m.get("timed_out"):
            continue
        if m["exact"]:
            text = (
                f"every volunteer has at least a {_pct(m['min'])} chance of selection "
                f"({m['min_over_k_n']:.2f} × the equal chance k/n = {_pct(k_over_n)}), "
                f"at most {_pct(m['max'])}."
            )
        else:
            text = (
                f"the least-selected volunteer has at most a {_pct(m['min_upper_99'])} chance "
                f"(99 % upper confidence bound, from {m['draws']:,} draws); the most-selected "
                f"about {_pct(m['max'])}. Equal chance would be k/n = {_pct(k_over_n)}."
            )
        items.append(f"<li><strong>{_e(algorithm.upper())}</strong>: {text}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _household_columns(pool: dict[str, Any]) -> str:
    columns = ", ".join(pool["household_columns"]) or "none"
    if pool.get("allow_empty_household"):
        columns += " (an empty household cell makes a household of one)"
    return columns


def _timed_out(metrics: dict[str, Any]) -> str:
    """A warning for each algorithm that ran out of time (empty when none did)."""
    lines = []
    for algorithm, m in metrics.items():
        if m.get("timed_out"):
            limit = "" if m["time_limit"] is None else f" of {m['time_limit']:g} s"
            lines.append(
                f'<p class="bad">{_e(algorithm.upper())} did not finish within the time limit'
                f"{limit}, so it is left out of this report. Give it more time (--time-limit) "
                "or leave it out of --algorithms.</p>"
            )
    return "\n".join(lines)


def _inputs_table(inputs: dict[str, Any]) -> str:
    pool, quotas = inputs["inputs"]["pool"], inputs["inputs"]["quotas"]
    rows = [
        ["pool file", _e(pool["file"])],
        ["pool file SHA-256", f"<code>{_e(pool['file_sha256'])}</code>"],
        ["pool canonical digest", f"<code>{_e(pool['digest'])}</code>"],
        ["id column", _e(pool["id_column"] or "row numbers")],
        ["household columns", _e(_household_columns(pool))],
        ["quota file", _e(quotas["file"])],
        ["quota file SHA-256", f"<code>{_e(quotas['file_sha256'])}</code>"],
        ["quotas canonical digest", f"<code>{_e(quotas['digest'])}</code>"],
        ["seed", f"<code>{_e(inputs['seed'])}</code>"],
        ["draws per sample", _e("–" if inputs["draws"] is None else f"{inputs['draws']:,}")],
        [
            "time limit per fair algorithm",
            _e("none" if inputs.get("time_limit") is None else f"{inputs['time_limit']:g} s"),
        ],
        ["tool", _e(", ".join(f"{k} {v}" for k, v in inputs["tool"].items()))],
    ]
    return _table(["", ""], rows)


def report_html(
    audit: Audit, metrics: dict[str, Any], inputs: dict[str, Any], images: dict[str, bytes]
) -> str:
    instance = audit.instance
    n, k = instance.pool.size, instance.k
    k_over_n = k / n
    pool_name = inputs["inputs"]["pool"]["file"]
    reference = None if audit.reference_min is None else audit.reference_min[0]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fairness audit: {_e(pool_name)}, k = {k}</title>
<style>{CSS}</style>
</head>
<body>
<h1>Fairness audit: a panel of {k} from {n:,} volunteers</h1>
<p>How likely is each volunteer to be selected, under each selection algorithm? If every volunteer
had the same chance, it would be k/n = {k} / {n:,} = {_pct(k_over_n)}. The quotas make some
volunteers harder to select than others; a fair algorithm keeps the smallest chance as high as the
quotas allow.</p>
{_timed_out(metrics)}
{_summary(metrics, k_over_n)}
<h2>Every volunteer's chance</h2>
{_img(images["probabilities.png"], "selection probability of every volunteer, sorted")}
<p class="note">Each line sorts the volunteers from least to most likely to be selected under one
algorithm. A flat line at k/n would be perfectly equal chances. LEGACY's probabilities are
estimated from repeated draws; the others are exact.</p>
<h2>Metrics</h2>
{_metrics_table(metrics, k_over_n, reference)}
<p class="note">Gini coefficient: 0 % when every chance is equal, higher when chances are unequal.
Geometric mean: sampled probabilities are counted as at least 1 / draws. A volunteer counts as
below the minimum only when the gap is larger than the accuracy of the two computations (the
solvers stop within a stated tolerance of the optimum; docs/audit.md gives the rule), so
round-off is never reported as unfairness. The drawn panel is the one the seed selects under each
algorithm, checked against every quota.</p>
{_diversity_section(images)}
<h2>Quotas, pool and expected panel</h2>
{_img(images["quotas.png"], "quota ranges, pool shares and expected panel shares")}
{_values_table(metrics)}
<h2>What was audited</h2>
{_inputs_table(inputs)}
<p class="note">The canonical digests are those of a selection record (docs/record.md): anyone
holding the same pool and quotas can recompute them. The full figures are in metrics.json and
probabilities.csv beside this file.</p>
</body>
</html>
"""


def write_report(
    audit: Audit, metrics: dict[str, Any], inputs: dict[str, Any], folder: Path
) -> list[str]:
    """probabilities.png, quotas.png and report.html into ``folder``; returns their names."""
    instance = audit.instance
    curves = [(r.algorithm.upper(), r.probability) for r in audit.results]
    images = {
        "probabilities.png": probability_curves_png(
            curves, instance.k / instance.pool.size, "Selection probability of every volunteer"
        ),
        "quotas.png": quota_bars_png(metrics, instance.k),
    }
    diversity = diversity_png(metrics)
    if diversity is not None:
        images["diversity.png"] = diversity
    for name, png in images.items():
        (folder / name).write_bytes(png)
    (folder / "report.html").write_text(report_html(audit, metrics, inputs, images), "utf-8")
    return [*images, "report.html"]
