"""Time `sortition invite` on a large synthetic registry, as CSV and as Parquet.

    python -m benchmarks.bench_invite [--rows 10000000] [--letters 30000] [--strata 50]
                                      [--engine local|dask] [--keep DIR]

Generates the registry (`sortition generate-registry`) into a temporary folder, then runs
`sortition invite` on each format in a child process, one weighted stratum, households by
address and postcode, and prints wall time, CPU time and the child's peak memory (maximum
resident set size, from the operating system's accounting of that one process).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SORTITION = [sys.executable, "-c", "from sortition_cli.entry import main; main()"]


def run(args: list[str]) -> tuple[float, float, int]:
    """(seconds, peak resident memory in MiB, exit code) of one child process; prints its CPU
    time and the machine's load, since wall time on a shared machine depends on the others."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"  (CPU {cpu:.1f} s, load average {os.getloadavg()[0]:.1f})", end=" ")
    return seconds, usage.ru_maxrss / 1024, child.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--letters", type=int, default=30_000)
    parser.add_argument("--strata", type=int, default=50)
    parser.add_argument("--engine", choices=("local", "dask"), default="local")
    parser.add_argument("--keep", type=Path, default=None, help="Keep the registries here.")
    options = parser.parse_args()

    folder = options.keep or Path(tempfile.mkdtemp(prefix="bench-invite-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        print(f"{options.rows:,} rows, {options.letters:,} letters, {options.strata} strata")
        for suffix in ("csv", "parquet"):
            registry = folder / suffix / f"registry.{suffix}"
            if not registry.exists():
                seconds, memory, code = run(
                    [
                        *SORTITION,
                        "generate-registry",
                        "--rows",
                        str(options.rows),
                        "--strata",
                        str(options.strata),
                        "--seed",
                        "bench",
                        "--format",
                        suffix,
                        "--out",
                        str(registry.parent),
                    ]
                )
                size = registry.stat().st_size / 2**20
                print(f"generate {suffix}: {seconds:.1f} s, {memory:.0f} MiB peak, {size:.0f} MiB")
            out = folder / f"out-{suffix}"
            seconds, memory, code = run(
                [
                    *SORTITION,
                    "invite",
                    "--registry",
                    str(registry),
                    "--letters",
                    str(options.letters),
                    "--household-columns",
                    "address,postcode",
                    "--stratify-by",
                    "area",
                    "--weight",
                    "area=area-01:2",
                    "--engine",
                    options.engine,
                    "--seed",
                    "bench",
                    "--out",
                    str(out),
                    "--force",
                ]
            )
            status = "" if code == 0 else f" (exit {code})"
            engine = options.engine
            print(f"invite {suffix} ({engine}): {seconds:.1f} s, {memory:.0f} MiB peak{status}")
    finally:
        if options.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
