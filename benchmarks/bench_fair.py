"""Benchmark of the fair-distribution engine on the shared instances.

Usage: python benchmarks/bench_fair.py [--algorithms leximin,maximin,nash] [--time-limit S]
                                        [--instances name,...]

Prints one line per (instance, algorithm): n, k, types, seconds, rounds, levels, LP and pricing
time, and the minimum probability. The shared data folder is ../shared/data next to the repository
or $SORTITION_SHARED_DATA.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sortition.engine.errors import TimeLimitReached
from sortition.engine.registry import FAIR_ALGORITHMS, objective
from sortition.selection.service import load_input
from sortition.units import UnitInstance, unit_instance

INSTANCES = {
    "example_small_20": ("real", 20),
    "example_large_200": ("real", 200),
    "ces11_k60": ("instances", 60),
    "gss_k150": ("instances", 150),
}


def shared_data() -> Path:
    env = os.environ.get("SORTITION_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def load(folder: Path, k: int) -> tuple[UnitInstance, np.ndarray]:
    loaded = load_input(folder / "respondents.csv", folder / "categories.csv", k)
    return unit_instance(loaded.instance)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--algorithms", default="leximin,maximin", help=",".join(FAIR_ALGORITHMS))
    parser.add_argument("--instances", default=",".join(INSTANCES))
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args()
    data = shared_data()
    header = (
        f"{'instance':<18} {'n':>5} {'k':>4} {'types':>5} {'algorithm':<8} {'seconds':>8} "
        f"{'rounds':>6} {'levels':>6} {'LP s':>7} {'price s':>7} {'heur s':>7} "
        f"{'columns':>7} {'min prob':>10}"
    )
    print(header)
    for name in args.instances.split(","):
        sub, k = INSTANCES[name]
        folder = data / sub / name
        if not folder.is_dir():
            print(f"{name:<18} missing ({folder})")
            continue
        inst, unit = load(folder, k)
        for alg in args.algorithms.split(","):
            t0 = time.perf_counter()
            try:
                dist = objective(alg)(inst, time_limit=args.time_limit)
            except TimeLimitReached:
                print(
                    f"{name:<18} {inst.n_people:>5} {k:>4} {inst.n_units:>5} {alg:<8} "
                    f"{'> ' + str(int(args.time_limit)):>8}  time limit reached"
                )
                continue
            secs = time.perf_counter() - t0
            st = dist.stats
            prob = dist.unit_probability[unit]
            print(
                f"{name:<18} {inst.n_people:>5} {k:>4} {inst.n_units:>5} {alg:<8} {secs:>8.2f} "
                f"{st.get('rounds', 0):>6} {st.get('levels', '-'):>6} "
                f"{float(st.get('lp_seconds', 0.0)):>7.2f} "
                f"{float(st.get('pricing_seconds', 0.0)):>7.2f} "
                f"{float(st.get('heuristic_seconds', 0.0)):>7.2f} "
                f"{st.get('columns', 0):>7} {prob.min():>10.6f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
