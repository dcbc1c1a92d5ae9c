"""LEGACY re-implemented from docs/legacy.md alone, checked against the tool.

``doc_legacy`` below imports nothing from ``sortition``: it reads the canonical quotas and pool as
record.json holds them and follows the page step by step, with the seeded stream of
docs/randomness.md (``doc_stream``/``doc_below``, written from that page in tests/helpers.py).
It must give the tool's panel, number of attempts and number of stream words on every seed of
every instance below, including pools whose draws need dozens of attempts, and the test vector
printed in docs/legacy.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sortition.engine.legacy import LegacySampler
from sortition.errors import InfeasibleError
from sortition.randomness import SeededStream
from sortition.selection.service import load_input
from sortition.synthetic.pools import PRESETS, generate_instance, write_instance
from tests.helpers import REPO, doc_below, doc_stream, run_cli, runnable_instance, select_args

# --------------------------------------------------------------------------- from the page alone


class CountingWords:
    """The words of docs/randomness.md section 1, counted."""

    def __init__(self, seed: str) -> None:
        self.words = doc_stream(seed)
        self.used = 0

    def __iter__(self) -> Iterator[int]:
        return self

    def __next__(self) -> int:
        self.used += 1
        return int(next(self.words))


@dataclass
class DocDraw:
    panel: list[str] | None  # ids in person order; None when max_attempts dead ends in a row
    attempts: int
    words: int
    trace: list[list[tuple[str, int, int, str]]] = field(default_factory=list)  # per attempt
    ends: list[str] = field(default_factory=list)  # per attempt: why it ended


@dataclass
class DocInstance:
    """Section 1: rows sorted by (feature, value), people by id, code point by code point."""

    rows: list[dict[str, Any]]
    mins: list[int]
    maxs: list[int]
    ids: list[str]
    values: list[list[int]]  # each person's rows, one per feature
    household: list[int | None]
    has: list[list[int]]  # each row's people, in person order

    @classmethod
    def from_record(cls, quotas: list[dict[str, Any]], pool: list[dict[str, Any]]) -> DocInstance:
        rows = sorted(quotas, key=lambda q: (q["feature"], q["value"]))
        number = {(q["feature"], q["value"]): v for v, q in enumerate(rows)}
        people = sorted(pool, key=lambda p: p["id"])
        values = [sorted(number[(f, x)] for f, x in p["values"].items()) for p in people]
        return cls(
            rows=rows,
            mins=[int(q["min"]) for q in rows],
            maxs=[int(q["max"]) for q in rows],
            ids=[p["id"] for p in people],
            values=values,
            household=[p["household"] for p in people],
            has=[[i for i, mine in enumerate(values) if v in mine] for v in range(len(rows))],
        )


def doc_legacy(
    quotas: list[dict[str, Any]],
    pool: list[dict[str, Any]],
    k: int,
    seed: str,
    max_attempts: int = 100,
    *,
    check_only_available: bool = False,  # the mistake docs/legacy.md warns about
) -> DocDraw:
    """docs/legacy.md, sections 1 to 5: attempts on one stream until one succeeds."""
    instance = DocInstance.from_record(quotas, pool)
    words = CountingWords(seed)
    draw = DocDraw(None, 0, 0)
    for attempt in range(1, max_attempts + 1):
        draw.attempts = attempt
        seats: list[tuple[str, int, int, str]] = []
        draw.trace.append(seats)
        panel, end = doc_attempt(instance, k, words, seats, check_only_available)
        draw.ends.append(end)
        if panel is not None:
            draw.panel = [instance.ids[i] for i in sorted(panel)]
            break
    draw.words = words.used
    return draw


def doc_attempt(
    instance: DocInstance,
    k: int,
    words: CountingWords,
    seats: list[tuple[str, int, int, str]],
    check_only_available: bool = False,
) -> tuple[list[int] | None, str]:
    """One attempt (sections 2 to 4): the panel or None, and how the attempt ended."""
    rows, mins, maxs, values, has = (
        instance.rows,
        instance.mins,
        instance.maxs,
        instance.values,
        instance.has,
    )
    # Section 2.
    available = [True] * len(instance.ids)
    selected = [0] * len(rows)
    remaining = [len(has[v]) for v in range(len(rows))]
    panel: list[int] = []

    def remove(i: int) -> None:
        if available[i]:
            available[i] = False
            for v in values[i]:
                remaining[v] -= 1

    for seat in range(1, k + 1):
        # Section 3, step 1 (on every row).
        checked = [v for v in range(len(rows)) if not check_only_available or remaining[v] > 0]
        short = [v for v in checked if selected[v] + remaining[v] < mins[v]]
        if short:
            v = short[0]
            return None, (
                f"dead end at seat {seat}, step 1: {_label(rows[v])} has {selected[v]} "
                f"selected + {remaining[v]} remaining < min {mins[v]}"
            )
        # Step 2: the largest ratio, the first row on a tie (fractions compared exactly).
        best = None
        for v in range(len(rows)):
            if remaining[v] == 0 or maxs[v] == 0:
                continue
            if (
                best is None
                or (mins[v] - selected[v]) * remaining[best]
                > (mins[best] - selected[best]) * remaining[v]
            ):
                best = v
        if best is None:
            return None, f"dead end at seat {seat}, step 2: nobody is left"
        if mins[best] - selected[best] > remaining[best]:
            return None, f"dead end at seat {seat}, step 2: a ratio above 1"
        # Step 3: one choice among the available people with that value, in person order.
        candidates = [i for i in has[best] if available[i]]
        pick = doc_below(words, len(candidates))
        person = candidates[pick]
        seats.append((_label(rows[best]), len(candidates), pick, instance.ids[person]))
        # Step 4.
        panel.append(person)
        available[person] = False
        for v in values[person]:
            selected[v] += 1
            remaining[v] -= 1
        # Step 5.
        if instance.household[person] is not None:
            for i, household in enumerate(instance.household):
                if household == instance.household[person]:
                    remove(i)
        # Step 6.
        for v in values[person]:
            if selected[v] >= maxs[v]:
                for i in has[v]:
                    remove(i)
    # Section 4.
    bad = [v for v in range(len(rows)) if not mins[v] <= selected[v] <= maxs[v]]
    if bad:
        return None, f"dead end after seat {k} (section 4): " + ", ".join(
            f"{_label(rows[v])} has {selected[v]}" for v in bad
        )
    return panel, "success: every row within its quota"


def _label(row: dict[str, Any]) -> str:
    return f"{row['feature']} {row['value']}"


# --------------------------------------------------------------------------- against the tool


def _record(pool: Path, quotas: Path, k: int, seed: str, out: Path, *extra: str) -> dict[str, Any]:
    result = run_cli(select_args(pool, quotas, k, *extra, algorithm="legacy", seed=seed, out=out))
    assert result.exit_code == 0, result.stderr
    record: dict[str, Any] = json.loads((out / "record.json").read_text(encoding="utf-8"))
    return record


def _tool_draw(sampler: LegacySampler, seed: str) -> tuple[list[str] | None, int, int]:
    stream = SeededStream(seed)
    try:
        drawn = sampler.draw(stream)
    except InfeasibleError:
        return None, 100, stream.words_used
    ids = sampler.instance.pool.ids
    return [ids[int(i)] for i in drawn.panel], drawn.attempts, stream.words_used


def _generated(tmp_path: Path, preset: str, n: int, k: int, households: bool) -> Path:
    folder = tmp_path / f"{preset}-{n}-{k}-{households}"
    folder.mkdir()
    write_instance(generate_instance(n, k, PRESETS[preset], "legacy-doc", households), folder)
    return folder


CASES = {
    # name: (pool, quotas, k, household columns, seeds); generated pools are made in the test
    "example": ("data/example/pool.csv", "data/example/quotas.csv", 20, "address,postcode", 150),
    "realistic7": ("realistic7", 200, 30, "", 60),
    "realistic7-households": ("realistic7", 300, 30, "household", 40),
    "example_small_20": ("example_small_20", None, 20, "", 150),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_page_gives_the_tools_draw_on_every_seed(name: str, tmp_path: Path) -> None:
    first, second, k, households, seeds = CASES[name]
    if name.startswith("realistic7"):
        folder = _generated(tmp_path, str(first), int(second or 0), k, bool(households))
        pool, quotas = folder / "pool.csv", folder / "quotas.csv"
    elif name == "example":
        pool, quotas = REPO / str(first), REPO / str(second)
    else:
        case = runnable_instance(str(first))
        pool, quotas = case.pool, case.quotas
    columns = tuple(c for c in households.split(",") if c)
    extra = ["--household-columns", households] if households else []
    record = _record(pool, quotas, k, "doc", tmp_path / "panel", *extra)
    # the record alone gives its own panel
    mine = doc_legacy(record["quotas"], record["pool"], k, record["seed"]["value"])
    assert (mine.panel, mine.attempts) == (record["panel"], record["draw"]["attempts"])

    sampler = LegacySampler(load_input(pool, quotas, k, household_columns=columns).instance)
    attempts = []
    for seed in range(seeds):
        mine = doc_legacy(record["quotas"], record["pool"], k, f"doc:{seed}")
        panel, tries, words = _tool_draw(sampler, f"doc:{seed}")
        assert (mine.panel, mine.attempts, mine.words) == (panel, tries, words), seed
        attempts.append(tries)
    if name.startswith("realistic7"):
        assert max(attempts) >= 10  # restarts on the same stream are exercised


def test_a_row_with_max_zero_runs_to_the_last_seat_and_fails(tmp_path: Path) -> None:
    """Section 4's second way to a dead end: someone with a max-0 value is picked through another
    feature; the attempt goes on to seat k (using the stream) and fails there."""
    pool = tmp_path / "pool.csv"
    people = [("p1", "a", "x"), ("p2", "a", "y"), ("p3", "b", "x"), ("p4", "b", "x")]
    pool.write_text("id,f,g\n" + "".join(f"{i},{f},{g}\n" for i, f, g in people))
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("feature,value,min,max\nf,a,1,2\nf,b,0,2\ng,x,2,2\ng,y,0,0\n")
    record = _record(pool, quotas, 2, "zero", tmp_path / "panel")
    sampler = LegacySampler(load_input(pool, quotas, 2).instance)
    ends = set()
    for seed in range(40):
        mine = doc_legacy(record["quotas"], record["pool"], 2, f"zero:{seed}")
        assert (mine.panel, mine.attempts, mine.words) == _tool_draw(sampler, f"zero:{seed}")
        ends.update(mine.ends)
    assert "dead end after seat 2 (section 4): g x has 1, g y has 1" in ends


# --------------------------------------------------------------------------- the page's vector

VECTOR_QUOTAS = """feature,value,min,max
age,old,2,3
age,young,2,3
gender,f,2,3
gender,m,2,3
region,east,1,2
region,north,1,1
region,south,1,2
"""
VECTOR_POOL = """id,household,age,gender,region
P01,,young,m,north
P02,H2,young,f,south
P03,,old,f,east
P04,H3,young,f,north
P05,,young,m,east
P06,H1,old,f,north
P07,,young,m,east
P08,H2,young,m,north
P09,H3,young,f,east
P10,H1,old,f,east
P11,,old,m,north
P12,,young,m,east
P13,,young,f,south
"""
VECTOR_K = 5
VECTOR_SEED = "legacy-vector"


def _vector_record(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "pool.csv").write_text(VECTOR_POOL)
    (tmp_path / "quotas.csv").write_text(VECTOR_QUOTAS)
    return _record(
        tmp_path / "pool.csv",
        tmp_path / "quotas.csv",
        VECTOR_K,
        VECTOR_SEED,
        tmp_path / "panel",
        "--household-columns",
        "household",
        "--allow-empty-household",
    )


def test_the_vector_printed_in_the_page(tmp_path: Path) -> None:
    record = _vector_record(tmp_path)
    page = (REPO / "docs" / "legacy.md").read_text(encoding="utf-8")
    mine = doc_legacy(record["quotas"], record["pool"], VECTOR_K, VECTOR_SEED)
    assert (mine.panel, mine.attempts) == (record["panel"], record["draw"]["attempts"])
    assert mine.attempts >= 3
    printed = re.search(r"takes \*\*(\d+) attempts\*\* and selects\s+\*\*(.+?)\*\*", page, re.S)
    assert printed is not None
    assert int(printed.group(1)) == mine.attempts
    assert printed.group(2).replace("\n", " ").split(", ") == mine.panel
    people, trace = vector_markdown(record, mine).split("\n\n")
    assert people in page and trace in page
    assert f"using {mine.words} words of the stream" in page
    wrong = doc_legacy(
        record["quotas"], record["pool"], VECTOR_K, VECTOR_SEED, check_only_available=True
    )
    assert (wrong.panel, wrong.attempts) != (mine.panel, mine.attempts)


def vector_markdown(record: dict[str, Any], draw: DocDraw) -> str:
    """The page's table of people and its trace, as printed there (a blank line between)."""
    lines = ["| id | household | age | gender | region |", "|---|---|---|---|---|"]
    for person in record["pool"]:
        household = "–" if person["household"] is None else str(person["household"])
        v = person["values"]
        cells = [person["id"], household, v["age"], v["gender"], v["region"]]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [
        "| attempt | seat | value (step 2) | m | below(m) | person |",
        "|---|---|---|---|---|---|",
    ]
    for attempt, (seats, end) in enumerate(zip(draw.trace, draw.ends, strict=True), start=1):
        for seat, (label, m, pick, person) in enumerate(seats, start=1):
            lines.append(f"| {attempt} | {seat} | {label} | {m} | {pick} | {person} |")
        lines.append(f"| {attempt} | | *{end}* | | | |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the documents

DOCUMENTS = [
    "README.md",
    "data/README.md",
    "data/example/README.md",
    "benchmarks/README.md",
    *(f"docs/{p.name}" for p in sorted((REPO / "docs").glob("*.md"))),
]
OUTSIDE = ("DESIGN.md", "STYLE.md")
# documents and code that a document sends its reader to (not the files a command writes)
MENTIONED = re.compile(
    r"(?<![\w./-])((?:docs|tests|sortition|benchmarks|data|scripts|cli)/[\w/-]*\.(?:md|py))"
)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_no_document_points_outside_the_project(name: str) -> None:
    """Every file a document names is in the project (issue 13: docs/randomness.md sent readers
    to a DESIGN.md that the project does not have)."""
    text = (REPO / name).read_text(encoding="utf-8")
    for outside in OUTSIDE:
        assert outside not in text, f"{name} names {outside}, which is not in the project"
    for path in MENTIONED.findall(text):
        assert (REPO / path).exists() or (REPO / name).parent.joinpath(path).exists(), (
            f"{name} names {path}, which is not in the project"
        )
