"""The benchmark suite behind ``python -m benchmarks``.

Every algorithm we have (legacy, maximin, leximin, nash) and the peer's (``sortition-algorithms``,
backend mip) on the same inputs: the runnable shared instances, when present, and synthetic pools
from :mod:`sortition.synthetic.pools` in four sweeps (pool size, panel size, number of features,
households). Each (tool, algorithm, case) runs in a child process of its own
(``ours_worker.py`` / ``peer_worker.py``), which is killed at the time limit and whose peak memory
(``ru_maxrss``) is recorded. Within a sweep, a tool's algorithm that goes over the limit on a case
is not run on the larger cases of that sweep: they are recorded as "skipped".

The results document (JSON) holds one record per run; :mod:`benchmarks.report` turns it into a
Markdown table and a log-log plot.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.child import run_child
from benchmarks.peer import PEER, run_peer
from sortition.selection.service import load_input
from sortition.synthetic.pools import PRESETS, generate_instance, write_instance
from tests.helpers import RUNNABLE, shared_data

SEED = "benchmark"  # the seed of every synthetic pool and of LEGACY's draws
OURS = "sortition"
OUR_ALGORITHMS = ("legacy", "maximin", "leximin", "nash", "goldilocks")
# The peer's leximin needs Gurobi; without it the peer runs its maximin, which is already measured.
PEER_ALGORITHMS = ("legacy", "maximin", "nash")
DEFAULT_LIMIT = 600.0
OURS_WORKER = Path(__file__).resolve().with_name("ours_worker.py")
# Our engine stops itself at the limit; the child is killed a little later if it has not.
KILL_GRACE = 10.0

SWEEPS: dict[str, str] = {
    "pool size": "realistic7, k = 150, n = 1,000 to 1,000,000",
    "panel size": "realistic7, n = 10,000, k = 50, 150, 500",
    "features": "presets realistic4, realistic7, realistic10, n = 10,000, k = 150",
    "households": "realistic7 with households, k = 150, n = 1,000 to 100,000",
}


@dataclass(frozen=True)
class Case:
    """One input: a shared instance (``instance``) or a synthetic pool (``preset``, ``n``)."""

    name: str
    k: int
    instance: str | None = None
    preset: str | None = None
    n: int | None = None
    households: bool = False
    sweeps: tuple[str, ...] = ()
    quick: bool = False  # one of the small cases of ``--quick``

    @property
    def source(self) -> str:
        return "instance" if self.instance is not None else "synthetic"


def synthetic(preset: str, n: int, k: int, households: bool = False, **kw: Any) -> Case:
    name = f"{preset}-n{n}-k{k}" + ("-households" if households else "")
    return Case(name, k, preset=preset, n=n, households=households, **kw)


def all_cases() -> list[Case]:
    """Every case, in the order they run: a sweep's cases from the smallest up."""
    cases = [
        Case(name, k, instance=name, quick=name.startswith("example_"))
        for name, (_, k) in RUNNABLE.items()
    ]
    # a small synthetic pool that every engine finishes in seconds, present without shared data
    cases.append(synthetic("realistic4", 1000, 20, quick=True))
    wanted: list[tuple[str, Case]] = []
    wanted += [("pool size", synthetic("realistic7", n, 150)) for n in (10**3, 10**4, 10**5, 10**6)]
    wanted += [("panel size", synthetic("realistic7", 10**4, k)) for k in (50, 150, 500)]
    wanted += [("features", synthetic(p, 10**4, 150)) for p in ("realistic4", "realistic7")]
    wanted += [("features", synthetic("realistic10", 10**4, 150))]
    wanted += [("households", synthetic("realistic7", n, 150, True)) for n in (10**3, 10**4, 10**5)]
    merged: dict[str, Case] = {}
    for sweep, case in wanted:  # a case in several sweeps runs once
        known = merged.get(case.name, case)
        merged[case.name] = replace(known, sweeps=(*known.sweeps, sweep))

    def size(case: Case) -> tuple[bool, int, int, int]:
        assert case.preset is not None and case.n is not None
        return (case.households, case.n, case.k, len(PRESETS[case.preset]))

    return cases + sorted(merged.values(), key=size)


def select_cases(cases: Sequence[Case], only: str | None, quick: bool) -> list[Case]:
    """The cases ``--quick`` and ``--only PATTERN[,PATTERN...]`` (shell-style, on names) keep."""
    kept = [c for c in cases if c.quick or not quick]
    if only:
        patterns = [p.strip() for p in only.split(",") if p.strip()]
        kept = [c for c in kept if any(fnmatch.fnmatchcase(c.name, p) for p in patterns)]
    return kept


# --------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """The files of one case and what they hold."""

    pool: Path
    quotas: Path
    household_columns: tuple[str, ...]
    n: int
    features: int
    types: int
    households: int | None


def prepare_inputs(case: Case, folder: Path) -> Inputs | None:
    """The case's files (generated into ``folder`` unless already there); None if missing."""
    if case.instance is not None:
        base = shared_data() / RUNNABLE[case.instance][0]
        pool, quotas = base / "respondents.csv", base / "categories.csv"
        if not (pool.is_file() and quotas.is_file()):
            return None
    else:
        assert case.preset is not None and case.n is not None
        target = folder / case.name
        pool, quotas = target / "pool.csv", target / "quotas.csv"
        if not (pool.is_file() and quotas.is_file()):
            target.mkdir(parents=True, exist_ok=True)
            generated = generate_instance(
                case.n, case.k, PRESETS[case.preset], SEED, households=case.households
            )
            write_instance(generated, target)
    columns = ("household",) if case.households else ()
    instance = load_input(pool, quotas, case.k, household_columns=columns).instance
    return Inputs(
        pool=pool,
        quotas=quotas,
        household_columns=columns,
        n=instance.pool.size,
        features=len(instance.quotas.features),
        types=int(np.unique(instance.pool.values, axis=0).shape[0]),
        households=instance.pool.household_count() if columns else None,
    )


# --------------------------------------------------------------------------------------------------
# Running one case
# --------------------------------------------------------------------------------------------------


def run_ours(algorithm: str, inputs: Inputs, k: int, limit: float) -> dict[str, Any]:
    """Our algorithm once, in a child process; a record without the case's description."""
    with tempfile.TemporaryDirectory(prefix="bench-ours-") as scratch:
        spec_path = Path(scratch) / "spec.json"
        spec = {
            "pool": str(inputs.pool),
            "quotas": str(inputs.quotas),
            "k": k,
            "algorithm": algorithm,
            "household_columns": list(inputs.household_columns),
            "time_limit": limit,
            "seed": SEED,
        }
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        outcome = run_child(
            [sys.executable, str(OURS_WORKER), str(spec_path)],
            limit + KILL_GRACE,
            progress_line=lambda line: line.startswith("#progress"),
        )
    record: dict[str, Any] = {
        "tool": OURS,
        "tool_version": outcome.tool,
        "algorithm": algorithm,
        "algorithm_run": algorithm,
        "peak_memory_bytes": outcome.peak_memory_bytes,
        "min_probability": None,
        "load_seconds": None,
        "note": "",
    }
    last_progress = outcome.progress.removeprefix("#progress").strip()
    if outcome.killed:
        record.update(status="over limit", seconds=limit, note="killed at the limit")
    elif outcome.error is not None or outcome.result is None:
        record.update(status="error: " + str(outcome.error), seconds=None)
    else:
        found = outcome.result
        status = str(found.get("status", "error: no status"))
        seconds = found.get("seconds")
        record.update(
            status=status,
            seconds=limit if status == "over limit" else seconds,
            load_seconds=found.get("load_seconds"),
            min_probability=found.get("min_probability"),
            note=str(found.get("note", "")),
        )
        if found.get("stats"):
            record["stats"] = found["stats"]
        if found.get("units") is not None:
            record["units"] = found["units"]
    if record["status"] == "over limit" and last_progress:
        record["last_progress"] = json.loads(last_progress)
    return record


def run_peer_case(
    algorithm: str, inputs: Inputs, k: int, limit: float, python: str
) -> dict[str, Any]:
    """The peer's algorithm once, in a child process; a record without the case's description."""
    result = run_peer(
        inputs.pool,
        inputs.quotas,
        k,
        algorithm,
        limit,
        python,
        household_columns=inputs.household_columns,
    )
    status = result.status
    return {
        "tool": PEER,
        "tool_version": result.tool,
        "algorithm": algorithm,
        "algorithm_run": result.algorithm_run,
        "backend": result.backend,
        "peak_memory_bytes": result.peak_memory_bytes,
        "min_probability": result.min_probability,
        "load_seconds": None,
        "status": status,
        "seconds": result.seconds if not status.startswith("error") else None,
        "note": result.note,
    }


# --------------------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------------------


@dataclass
class Options:
    """What ``python -m benchmarks`` was asked for."""

    out: Path
    limit: float = DEFAULT_LIMIT
    peer_limit: float = DEFAULT_LIMIT
    peer_python: str | None = None  # None: no peer runs
    algorithms: tuple[str, ...] = OUR_ALGORITHMS  # empty: none of ours (a peer-only run)
    peer_algorithms: tuple[str, ...] = PEER_ALGORITHMS
    only: str | None = None
    quick: bool = False
    inputs: Path | None = None  # keep the generated pools here (reused when present)
    note: str = ""
    command: str = ""
    stem: str = field(default_factory=lambda: default_stem())


Runner = Callable[[str, str, Case, Inputs, float], dict[str, Any]]  # tool, algorithm, ...


def default_stem() -> str:
    """``<date>-<machine>``: today's date and the host name, safe as a file name."""
    machine = re.sub(r"[^A-Za-z0-9_.-]+", "-", platform.node()) or "machine"
    return f"{datetime.date.today().isoformat()}-{machine}"


def run_suite(
    options: Options,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    runner: Runner | None = None,
) -> dict[str, Any]:
    """Run the selected cases; rewrite ``<stem>.json`` after each run; return the document."""
    cases = select_cases(all_cases(), options.only, options.quick)

    def run_one(tool: str, algorithm: str, case: Case, inputs: Inputs, limit: float) -> dict:
        if tool == OURS:
            return run_ours(algorithm, inputs, case.k, limit)
        assert options.peer_python is not None
        return run_peer_case(algorithm, inputs, case.k, limit, options.peer_python)

    run = runner or run_one
    plan = [(OURS, a) for a in options.algorithms]
    if options.peer_python is not None:
        plan += [(PEER, a) for a in options.peer_algorithms]
    document = new_document(options)
    options.out.mkdir(parents=True, exist_ok=True)
    json_path = options.out / f"{options.stem}.json"
    over: dict[tuple[str, str, str], str] = {}  # (tool, algorithm, sweep) -> first case over
    total, done = len(cases) * len(plan), 0
    with tempfile.TemporaryDirectory(prefix="sortition-bench-") as scratch:
        folder = options.inputs or Path(scratch)
        for case in cases:
            if case.source == "synthetic":
                log(f"preparing {case.name}")
            inputs = prepare_inputs(case, folder)
            if inputs is None:
                log(f"{case.name}: shared instance not found under {shared_data()}; left out")
                total -= len(plan)
                continue
            for tool, algorithm in plan:
                done += 1
                limit = options.limit if tool == OURS else options.peer_limit
                blocked = [
                    (sweep, over[(tool, algorithm, sweep)])
                    for sweep in case.sweeps
                    if (tool, algorithm, sweep) in over
                ]
                if blocked:
                    sweep, first = blocked[0]
                    record: dict[str, Any] = {
                        "tool": tool,
                        "algorithm": algorithm,
                        "status": "skipped",
                        "seconds": None,
                        "note": f"not run: {first} went over the limit in the {sweep} sweep",
                    }
                else:
                    log(f"[{done}/{total}] {tool} {algorithm} on {case.name} ...")
                    record = run(tool, algorithm, case, inputs, limit)
                    if record["status"] == "over limit":
                        for sweep in case.sweeps:
                            over.setdefault((tool, algorithm, sweep), case.name)
                record = describe(case, inputs, limit) | record
                document["cases"].append(record)
                log(f"[{done}/{total}] {tool} {algorithm} on {case.name}: {summary(record)}")
                write_document(json_path, document)
    write_document(json_path, document)
    return document


def merge_documents(documents: Sequence[dict[str, Any]], note: str = "") -> dict[str, Any]:
    """One document from runs of the same suite made apart (e.g. ours and the peer's at once,
    one core each): every record, in the suite's case order, the commands and limits of each."""
    if not documents:
        raise ValueError("nothing to merge")
    order = {case.name: index for index, case in enumerate(all_cases())}
    records = [record for document in documents for record in document["cases"]]
    # a stable sort: within a case, each run keeps its order
    records.sort(key=lambda record: order.get(record["case"], len(order)))
    merged = dict(documents[0])
    merged["date"] = min(d["date"] for d in documents)
    merged["command"] = " ; ".join(d["command"] for d in documents if d.get("command"))
    merged["note"] = note or " ".join(d["note"] for d in documents if d.get("note"))
    limits: dict[str, float | None] = {"ours": None, "peer": None}
    for document in documents:
        for key in ("ours", "peer"):
            if any(r["tool"] == (OURS if key == "ours" else PEER) for r in document["cases"]):
                limits[key] = document["limits"][key]
    merged["limits"] = limits
    versions: dict[str, str | None] = {}
    for document in documents:
        for package, version in document["versions"].items():
            versions[package] = versions.get(package) or version
    merged["versions"] = versions
    merged["cases"] = records
    return merged


def describe(case: Case, inputs: Inputs, limit: float) -> dict[str, Any]:
    """The fields every record of a case shares."""
    return {
        "case": case.name,
        "source": case.source,
        "preset": case.preset,
        "sweeps": list(case.sweeps),
        "n": inputs.n,
        "k": case.k,
        "features": inputs.features,
        "types": inputs.types,
        "households": inputs.households,
        "limit": limit,
    }


def summary(record: dict[str, Any]) -> str:
    status = str(record["status"])
    if status == "ok":
        text = f"ok, {record['seconds']:.2f} s"
        if record.get("min_probability") is not None:
            text += f", min probability {record['min_probability']:.6f}"
        return text
    if status == "over limit":
        return f"over the limit ({record['limit']:g} s)"
    return status + (f" ({record['note']})" if record.get("note") else "")


def new_document(options: Options) -> dict[str, Any]:
    return {
        "title": "sortition benchmarks",
        "date": datetime.date.today().isoformat(),
        "command": options.command,
        "note": options.note,
        "machine": machine(),
        "versions": versions(options.peer_python),
        "limits": {
            "ours": options.limit,
            "peer": options.peer_limit if options.peer_python else None,
        },
        "seed": SEED,
        "sweeps": SWEEPS,
        "cases": [],
    }


def write_document(path: Path, document: dict[str, Any]) -> None:
    """Write the JSON at once (a temporary file renamed), so a reader never sees half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, path)


def machine() -> dict[str, Any]:
    """The host: name, processor, cores, memory, operating system."""
    processor = platform.processor()
    memory = None
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
        processor = found.group(1).strip() if found else processor
        meminfo = Path("/proc/meminfo").read_text(encoding="utf-8")
        total = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE)
        memory = int(total.group(1)) * 1024 if total else None
    except OSError:
        pass
    return {
        "name": platform.node(),
        "processor": processor,
        "cores": os.cpu_count(),
        "memory_bytes": memory,
        "system": platform.platform(),
        "python": platform.python_version(),
    }


def versions(peer_python: str | None) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    import sortition

    found: dict[str, str | None] = {"sortition": sortition.__version__}
    for package in ("ortools", "numpy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    if peer_python is not None:
        asked = subprocess.run(
            [
                peer_python,
                "-c",
                "from importlib.metadata import version as v; print(v('" + PEER + "'), v('mip'))",
            ],
            capture_output=True,
            text=True,
        )
        peer, _, mip = asked.stdout.strip().partition(" ")
        found[PEER], found["mip"] = peer or None, mip or None
    return found
