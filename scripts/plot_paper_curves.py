#!/usr/bin/env python3
"""Our LEXIMIN curve for ces11_k60 beside the Nature paper's published LEXIMIN curves of its ten
real assemblies (whose pools are not public, so only their curves can be compared).

    .venv/bin/python scripts/plot_paper_curves.py --out paper_curves.png [--time-limit 900]

Reads ../shared/data (or $SORTITION_SHARED_DATA): real/<instance>/reference_output/
<instance>_prob_allocs_data.csv and instances/ces11_k60. LEXIMIN on ces11_k60 can take minutes;
past --time-limit seconds the script falls back to MAXIMIN (the same minimum probability, but not
the same curve above it) and says so in the plot's title. Two panels: the selection probabilities
as published, and divided by k/n so that assemblies of different sizes compare.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.style
import numpy as np
from matplotlib.figure import Figure

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sortition.audit.report import PNG_METADATA, plot_style  # noqa: E402
from sortition.engine.objectives import fair_distribution  # noqa: E402
from sortition.errors import TimeLimitError  # noqa: E402
from sortition.selection.service import load_input  # noqa: E402

PAPER_INSTANCES = (
    "sf_a_35",
    "sf_b_20",
    "sf_c_44",
    "sf_d_40",
    "sf_e_110",
    "cca_75",
    "hd_30",
    "mass_24",
    "nexus_170",
    "obf_30",
)


def shared_data() -> Path:
    override = os.environ.get("SORTITION_SHARED_DATA")
    return Path(override) if override else REPO.parent / "shared" / "data"


def published_curve(data: Path, instance: str, algorithm: str = "LexiMin") -> np.ndarray:
    """The sorted selection probabilities of one algorithm from a prob_allocs_data.csv."""
    path = data / "real" / instance / "reference_output" / f"{instance}_prob_allocs_data.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["algorithm"] == algorithm]
    return np.sort(np.array([float(r["selection probability"]) for r in rows]))


def our_curve(data: Path, time_limit: float) -> tuple[str, np.ndarray, float]:
    """(label, probabilities, k/n) of ces11_k60: LEXIMIN, or MAXIMIN past the time limit."""
    folder = data / "instances" / "ces11_k60"
    loaded = load_input(folder / "respondents.csv", folder / "categories.csv", 60)
    instance = loaded.instance
    k_over_n = instance.k / instance.pool.size
    started = time.monotonic()
    try:
        fair = fair_distribution(instance, "leximin", time_limit=time_limit)
        label = f"ces11_k60 (ours, LEXIMIN, {time.monotonic() - started:.0f} s)"
    except TimeLimitError:
        fair = fair_distribution(instance, "maximin")
        label = (
            f"ces11_k60 (ours, MAXIMIN: LEXIMIN did not finish in {time_limit:g} s, "
            "so above the minimum this is not the LEXIMIN curve)"
        )
    return label, np.sort(fair.person_probability), k_over_n


def plot(
    published: dict[str, np.ndarray], ours: tuple[str, np.ndarray, float], title: str
) -> bytes:
    import io

    label, mine, mine_k_over_n = ours
    with plot_style():
        figure = Figure(figsize=(13, 5.5))
        raw, ratio = figure.subplots(1, 2)
        colours = matplotlib.colormaps["tab10"]
        for i, (name, curve) in enumerate(published.items()):
            x = 100 * np.arange(len(curve)) / len(curve)
            k_over_n = float(curve.mean())  # a LEXIMIN curve sums to k, so its mean is k/n
            style = {"color": colours(i), "linewidth": 1.2, "alpha": 0.8}
            raw.plot(x, curve, label=f"{name} (published)", **style)
            ratio.plot(x, curve / k_over_n, **style)
        x = 100 * np.arange(len(mine)) / len(mine)
        ours_style = {"color": "black", "linewidth": 2.5}
        raw.plot(x, mine, label=label, **ours_style)
        ratio.plot(x, mine / mine_k_over_n, **ours_style)
        ratio.axhline(1.0, color="grey", linestyle="--", linewidth=1)
        for axes in (raw, ratio):
            axes.set_xlabel("pool members, sorted by selection probability (percentile)")
            axes.set_xlim(0, 100)
            axes.set_ylim(bottom=0)
            axes.grid(True, alpha=0.3)
        raw.set_ylabel("LEXIMIN selection probability")
        ratio.set_ylabel("selection probability ÷ k/n")
        raw.set_title("as published")
        ratio.set_title("relative to equal chance k/n")
        figure.suptitle(title)
        figure.legend(loc="lower center", ncol=4, fontsize=8, frameon=False)
        figure.tight_layout(rect=(0, 0.14, 1, 1))
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata=PNG_METADATA)
        return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("paper_curves.png"))
    parser.add_argument("--time-limit", type=float, default=900.0)
    args = parser.parse_args()
    data = shared_data()
    published = {name: published_curve(data, name) for name in PAPER_INSTANCES}
    ours = our_curve(data, args.time_limit)
    algorithm = "LEXIMIN" if "LEXIMIN," in ours[0] else "MAXIMIN (LEXIMIN timed out)"
    title = f"Our {algorithm} curve for ces11_k60 beside the Nature paper's ten real assemblies"
    args.out.write_bytes(plot(published, ours, title))
    print(f"{ours[0]}: min {ours[1].min():.6f}, k/n {ours[2]:.6f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
