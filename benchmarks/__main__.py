"""``python -m benchmarks``: every algorithm, ours and the peer's, on every benchmark case.

Writes ``<out>/<date>-<machine>.json`` (one record per run), ``.md`` (the table) and ``.png``
(time against pool size); progress lines go to stderr. benchmarks/README.md explains the cases.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.peer import default_python, peer_problem
from benchmarks.report import write_reports
from benchmarks.suite import (
    DEFAULT_LIMIT,
    OUR_ALGORITHMS,
    PEER_ALGORITHMS,
    Options,
    all_cases,
    default_stem,
    merge_documents,
    run_suite,
    select_cases,
    write_document,
)

RESULTS = Path(__file__).resolve().with_name("results")


def _algorithms(text: str, known: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(a.strip() for a in text.split(",") if a.strip())
    unknown = [a for a in chosen if a not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown algorithm(s) {', '.join(unknown)}")
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--limit", type=float, default=DEFAULT_LIMIT, help="seconds per case for ours (default 600)"
    )
    parser.add_argument(
        "--peer-limit",
        type=float,
        default=DEFAULT_LIMIT,
        help="seconds per case for the peer (default 600)",
    )
    parser.add_argument(
        "--only", metavar="PATTERN", help="cases whose name matches (shell-style, comma-separated)"
    )
    parser.add_argument("--quick", action="store_true", help="the small cases only")
    parser.add_argument("--no-peer", action="store_true", help="run ours only")
    parser.add_argument("--no-ours", action="store_true", help="run the peer's only")
    parser.add_argument(
        "--stem", help="name of the result files (default <date>-<machine>, e.g. 2026-11-27-vm)"
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        metavar="RESULTS.json",
        help="write one document (and its table and plot) from runs made apart, then stop",
    )
    parser.add_argument(
        "--peer-python",
        help="interpreter with sortition-algorithms[mip] (default: $SORTITION_PEER_PYTHON)",
    )
    parser.add_argument(
        "--algorithms", default=",".join(OUR_ALGORITHMS), help="ours to run (default all)"
    )
    parser.add_argument(
        "--peer-algorithms",
        default=",".join(PEER_ALGORITHMS),
        help="the peer's to run (default legacy,maximin,nash)",
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="results folder (default benchmarks/results)"
    )
    parser.add_argument(
        "--inputs", type=Path, help="keep the generated pools in this folder and reuse them"
    )
    parser.add_argument(
        "--note", default="", help="a line shown above the table (e.g. 'reduced run')"
    )
    parser.add_argument("--list", action="store_true", help="list the selected cases and stop")
    args = parser.parse_args(argv)
    try:
        algorithms = _algorithms(args.algorithms, OUR_ALGORITHMS)
        peer_algorithms = _algorithms(args.peer_algorithms, (*PEER_ALGORITHMS, "leximin"))
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    if args.merge:
        documents = [json.loads(path.read_text(encoding="utf-8")) for path in args.merge]
        merged = merge_documents(documents, note=args.note)
        stem = args.stem or default_stem()
        args.out.mkdir(parents=True, exist_ok=True)
        write_document(args.out / f"{stem}.json", merged)
        for path in write_reports(args.out / f"{stem}.json"):
            print(path)
        return 0
    if args.no_ours and args.no_peer:
        parser.error("--no-ours and --no-peer leave nothing to run")
    if args.list:
        for case in select_cases(all_cases(), args.only, args.quick):
            sweeps = ", ".join(case.sweeps) or case.source
            print(f"{case.name:<34} k={case.k:<4} {sweeps}")
        return 0
    peer_python = None
    if not args.no_peer:
        peer_python = args.peer_python or default_python()
        problem = peer_problem(peer_python)
        if problem is not None:
            print(f"{problem}; or --peer-python EXE, or --no-peer", file=sys.stderr)
            return 2
    options = Options(
        out=args.out,
        limit=args.limit,
        peer_limit=args.peer_limit,
        peer_python=peer_python,
        algorithms=() if args.no_ours else algorithms,
        peer_algorithms=peer_algorithms,
        only=args.only,
        quick=args.quick,
        inputs=args.inputs,
        note=args.note,
        command=shlex.join(
            ["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)]
        ),
        stem=args.stem or default_stem(),
    )
    run_suite(options)
    for path in write_reports(options.out / f"{options.stem}.json"):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
