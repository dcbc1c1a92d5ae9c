"""Verify a selection record: recompute its digests, re-run its draw, re-check its panel.

``verify_record`` reads ``record.json`` (docs/record.md) and answers, one line per check, whether
the record holds together and whether it matches the input files when they are given:

* the canonical pool and quotas rebuilt from the record give the digests it states, and so do the
  pool and quota files (their raw SHA-256 is compared too, but a file that was only re-saved,
  with the same canonical content, still verifies);
* the seed re-derives the recorded panel (LEGACY re-runs the greedy; the fair algorithms draw a
  panel from the recorded distribution, docs/distribution.md);
* the recorded panel meets every quota and the household rule, counted from the record's own pool;
* for the fair algorithms: the distribution is a distribution of feasible panels, the recorded
  probabilities are the ones it implies, and (``recompute=True``) the algorithm run again gives
  the same probabilities;
* with an M-panel lottery: every published panel is feasible, the largest change of a person's
  probability that the M panels give is the one the record states, and everyone whose probability
  is at least 1/M is on one of them (docs/transparent.md).

A mismatch is a ``CheckItem`` with ``ok`` False, never an exception; only a record or file that
cannot be read or is not valid raises ``InputError`` (exit 2). Each kind of record has its own
checker in ``CHECKERS`` (an invitation record can plug in beside the selection record).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sortition.canonical import (
    file_sha256,
    pool_digest,
    pseudonymised_pool,
    quota_rows,
    quotas_digest,
)
from sortition.draw import commitment_sha256, derive_draw
from sortition.errors import InfeasibleError, InputError, Problem, require_file
from sortition.io.pool import parse_pool
from sortition.io.quotas import read_quota_file
from sortition.io.tables import read_table
from sortition.model import Instance
from sortition.record import tool_versions
from sortition.record_reader import (
    RecordReader,
    allow_empty_household,
    is_int,
    is_number,
    pool_columns,
    record_instance,
)
from sortition.transparent import needs_a_panel

WEIGHT_TOLERANCE = 1e-9  # weights sum to 1, recorded vs implied probabilities
RECOMPUTE_TOLERANCE = 1e-6  # recorded vs recomputed probabilities
FAIR_ALGORITHMS = ("leximin", "maximin", "nash")
SELECTION_VERSIONS = (3, 4)  # the selection record versions verify (and draw) read
MAX_LISTED = 3  # examples named in one detail line
MAX_LEFT_OUT = 20  # volunteers a lottery leaves out, named in its detail line
# A lottery's stated largest change and the one its panels give are the same float; round-off
# of another implementation is allowed this much.
CHANGE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class CheckItem:
    """One check: a short stable name, whether it passed, and one line of what was compared."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    """The checks, and warnings about the files given (such as quota columns ignored)."""

    items: tuple[CheckItem, ...]
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)

    def failed(self) -> tuple[CheckItem, ...]:
        return tuple(item for item in self.items if not item.ok)

    def item(self, name: str) -> CheckItem:
        """The item called ``name`` (KeyError when the report has none)."""
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(name)


@dataclass(frozen=True)
class VerifyRequest:
    """What a checker gets: the parsed record and the optional files and options."""

    record: dict[str, Any]
    name: str  # the record file's name, for messages
    pool_path: Path | None
    quotas_path: Path | None
    recompute: bool
    id_column: str | None
    registry_path: Path | None = None
    expect: str | None = None  # the commitment SHA-256 the organiser published
    warnings: list[str] = field(default_factory=list)  # checkers add what the user should see


Checker = Callable[[VerifyRequest], list[CheckItem]]


def verify_record(
    record_path: Path,
    pool_path: Path | None = None,
    quotas_path: Path | None = None,
    *,
    recompute: bool = False,
    id_column: str | None = None,
    registry_path: Path | None = None,
    expect: str | None = None,
) -> VerifyReport:
    """Check a record, and the pool and quota files when given. ``id_column`` overrides the
    record's id column when reading the pool file; ``expect`` is the commitment SHA-256 the
    organiser published before the draw (a selection record's ``commitment.sha256`` must be it).

    Options that belong to the other kind of record (``registry_path`` for a selection record;
    ``pool_path``, ``quotas_path``, ``recompute``, ``id_column``, ``expect`` for an invitation
    record) are bad input rather than silently ignored.
    """
    expected = None if expect is None else parse_sha256(expect, "--expect")
    record = read_record(record_path)
    kind = record["kind"]
    given = {
        "--registry": registry_path is not None,
        "--pool": pool_path is not None,
        "--quotas": quotas_path is not None,
        "--recompute": recompute,
        "--id-column": id_column is not None,
        "--expect": expected is not None,
    }
    foreign = [flag for flag in KIND_OPTIONS[kind][1] if given[flag]]
    if foreign:
        raise InputError(
            [
                Problem(
                    f"is {kind} record: {', '.join(foreign)} "
                    f"{'does' if len(foreign) == 1 else 'do'} not apply to it "
                    f"({KIND_OPTIONS[kind][0]})",
                    file=record_path.name,
                )
            ]
        )
    request = VerifyRequest(
        record,
        record_path.name,
        pool_path,
        quotas_path,
        recompute,
        id_column,
        registry_path,
        expected,
    )
    items = CHECKERS[kind][1](request)
    return VerifyReport(tuple(items), tuple(request.warnings))


# kind -> (what applies to it, the options of the other kind)
KIND_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "selection": (
        "a selection record takes --pool, --quotas, --recompute, --id-column and --expect",
        ("--registry",),
    ),
    "invitation": (
        "an invitation record takes --registry",
        ("--pool", "--quotas", "--recompute", "--id-column", "--expect"),
    ),
}


def parse_sha256(text: str, flag: str) -> str:
    """A published SHA-256 as typed: 64 hex digits, any case, spaces around ignored; lower case."""
    digest = text.strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InputError(
            [Problem(f"{flag}: a SHA-256 is 64 hex digits (0-9, a-f), got {text.strip()!r}")]
        )
    return digest


def read_record(path: Path) -> dict[str, Any]:
    """The record as a dict, with a known kind and version (InputError naming the file if not)."""
    require_file(path)
    name = path.name
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError([Problem(f"is not UTF-8 text (byte {exc.start})", file=name)]) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            [Problem(f"is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", file=name)]
        ) from None
    if not isinstance(record, dict):
        raise InputError([Problem("is not a record: expected a JSON object", file=name)])
    kind = record.get("kind")
    if kind is None:
        raise InputError([Problem("is not a record: it has no 'kind'", file=name)])
    if not isinstance(kind, str) or kind not in CHECKERS:
        known = ", ".join(sorted(CHECKERS))
        raise InputError([Problem(f"unknown record kind {kind!r} (known: {known})", file=name)])
    versions = CHECKERS[kind][0]
    version = record.get("version")
    if isinstance(version, bool) or version not in versions:
        known = ", ".join(str(v) for v in versions)
        raise InputError(
            [Problem(f"unknown {kind} record version {version!r} (known: {known})", file=name)]
        )
    return record


# ---------------------------------------------------------------------------------------------
# Reading the record's parts (InputError when the record is not valid)


# ---------------------------------------------------------------------------------------------
# The selection record


@dataclass(frozen=True)
class _Selection:
    """A selection record's parts, validated."""

    record: dict[str, Any]
    name: str  # the record file's name, for messages
    instance: Instance
    algorithm: str
    seed: str
    panel: list[str]
    pool_rows: dict[str, dict[str, Any]]  # id -> embedded row, as written
    quota_rows: list[dict[str, Any]]  # as written


def _read_selection(
    record: dict[str, Any], name: str, with_draw: bool
) -> tuple[_Selection, _FairParts | None]:
    """A selection record's (or, without ``with_draw``, a commitment's) parts, validated."""
    reader = RecordReader(name)
    instance = record_instance(record, name)
    algorithm = reader.text(record, "algorithm")
    if algorithm != "legacy" and algorithm not in FAIR_ALGORITHMS:
        raise reader.fail(f"unknown algorithm '{algorithm}'")
    for key in ("inputs.pool.digest", "inputs.quotas.digest"):
        reader.text(record, key)
    allow_empty_household(record, name)
    selection = _Selection(
        record=record,
        name=name,
        instance=instance,
        algorithm=algorithm,
        seed=reader.text(record, "seed.value") if with_draw else "",
        panel=reader.texts(record, "panel") if with_draw else [],
        pool_rows={row["id"]: row for row in record["pool"]},
        quota_rows=record["quotas"],
    )
    fair = _FairParts.read(selection, reader) if algorithm in FAIR_ALGORITHMS else None
    return selection, fair


def check_commitment(document: dict[str, Any], name: str) -> list[CheckItem]:
    """The checks that need only what a commitment fixes (``draw`` runs them before drawing):
    the digests of the embedded pool and quotas, and for the fair algorithms the lottery, the
    weights, the feasibility of every panel and the probabilities they imply.

    A commitment edited and then saved in canonical form hashes to a new value; ``--expect``
    catches that against the published hash, these checks catch content that does not hold
    together (e.g. k changed, two weights swapped)."""
    selection, fair = _read_selection(document, name, with_draw=False)
    items = _digest_items(selection)
    if fair is not None:
        if "lottery" in document:
            items.append(_lottery_item(selection, fair))
        items += [
            _weights_item(fair),
            _panels_item(selection, fair),
            _probabilities_item(selection, fair),
        ]
    return items


def verify_selection(request: VerifyRequest) -> list[CheckItem]:
    record = request.record
    selection, fair = _read_selection(record, request.name, with_draw=True)

    items = [_version_item(record), _commitment_item(selection)]
    if request.expect is not None:
        items.append(_published_item(selection, request.expect))
    items += _digest_items(selection)
    if request.pool_path is not None:
        items.append(_pool_file_item(selection, request.pool_path, request.id_column))
    if request.quotas_path is not None:
        items.append(_quotas_file_item(selection, request.quotas_path, request.warnings))
    items += [_panel_size_item(selection), _quotas_item(selection), _household_item(selection)]
    if fair is None:
        items.append(_draw_item(selection))
        if request.recompute:
            items.append(
                CheckItem(
                    "recompute",
                    True,
                    "LEGACY has no distribution to recompute: the draw re-run above is its "
                    "recomputation",
                )
            )
    else:
        items += [
            _draw_item(selection),
            *([_lottery_item(selection, fair)] if "lottery" in record else []),
            _weights_item(fair),
            _panels_item(selection, fair),
            _probabilities_item(selection, fair),
        ]
        if request.recompute:
            items.append(_recompute_item(selection, fair))
    return items


def _listed(things: Sequence[str], limit: int = MAX_LISTED) -> str:
    shown = ", ".join(things[:limit])
    return shown + (f" and {len(things) - limit} more" if len(things) > limit else "")


def _version_item(record: dict[str, Any]) -> CheckItem:
    tool = record.get("tool")
    if not isinstance(tool, dict):
        tool = {}
    here = tool_versions()
    written = ", ".join(f"{k} {v}" for k, v in tool.items()) or "unknown versions"
    detail = f"{record['kind']} record version {record['version']}, written by {written}"
    if tool and {k: str(v) for k, v in tool.items()} != here:
        detail += " (this is " + ", ".join(f"{k} {v}" for k, v in here.items()) + ")"
    return CheckItem("record version", True, detail)


def _digest_items(selection: _Selection) -> list[CheckItem]:
    record, instance = selection.record, selection.instance
    pool, quotas = instance.pool, instance.quotas
    items = []
    stated = record["inputs"]["pool"]["digest"]
    rebuilt = pool_digest(pool, quotas)
    people = record["inputs"]["pool"].get("people")
    if rebuilt != stated:
        items.append(
            CheckItem(
                "pool digest",
                False,
                f"record says {stated}, its embedded pool gives {rebuilt}",
            )
        )
    elif people is not None and people != pool.size:
        items.append(
            CheckItem(
                "pool digest",
                False,
                f"matches {stated}, but the record says {people} people and its pool "
                f"has {pool.size}",
            )
        )
    else:
        note = ""
        if pseudonymised_pool(pool, quotas) != record["pool"]:
            note = " (the embedded rows are not in canonical order; their content matches)"
        items.append(CheckItem("pool digest", True, f"matches {stated}, {pool.size} people{note}"))
    stated = record["inputs"]["quotas"]["digest"]
    rebuilt = quotas_digest(quotas)
    if rebuilt != stated:
        items.append(
            CheckItem(
                "quotas digest",
                False,
                f"record says {stated}, its embedded quotas give {rebuilt}",
            )
        )
    else:
        note = ""
        if quota_rows(quotas) != record["quotas"]:
            note = " (the embedded rows are not in canonical order; their content matches)"
        items.append(
            CheckItem(
                "quotas digest",
                True,
                f"matches {stated}, {len(quotas.rows)} quota rows{note}",
            )
        )
    return items


def _raw_file(path: Path, raw_stated: Any) -> tuple[bool, str]:
    """Raw SHA-256 comparison: (matches, words for the detail line)."""
    raw = file_sha256(path)
    if raw == raw_stated:
        return True, f"file SHA-256 matches {raw}"
    recorded = raw_stated if isinstance(raw_stated, str) else "nothing"
    return False, f"raw file SHA-256 {raw} differs from the record's {recorded}"


def _pool_file_item(selection: _Selection, path: Path, id_column: str | None) -> CheckItem:
    record, quotas = selection.record, selection.instance.quotas
    stated_pool = record["inputs"]["pool"]
    column, households = pool_columns(record, selection.name)
    if id_column is not None:
        column = id_column
    table = read_table(path)  # an unreadable file is InputError
    try:
        pool_file = parse_pool(
            table,
            quotas,
            column,
            households,
            allow_empty_household(record, selection.name),
        )
    except InputError as error:
        first = error.problems[0]
        more = len(error.problems) - 1
        return CheckItem(
            "pool file",
            False,
            f"{path.name} does not fit the record's quotas and columns: {first}"
            + (f" (and {more} more problems)" if more else ""),
        )
    stated = stated_pool["digest"]
    digest = pool_digest(pool_file.pool, quotas)
    raw_ok, raw_words = _raw_file(path, stated_pool.get("file_sha256"))
    if digest != stated:
        return CheckItem(
            "pool file",
            False,
            f"record says {stated}, {path.name} gives {digest} ({pool_file.pool.size} people)",
        )
    if raw_ok:
        return CheckItem(
            "pool file",
            True,
            f"{path.name}: canonical digest matches {stated}; {raw_words}",
        )
    return CheckItem(
        "pool file",
        True,
        f"{path.name}: canonical digest matches {stated}; note: {raw_words} "
        "(re-saved? the content that counts is the same)",
    )


def _quotas_file_item(selection: _Selection, path: Path, warnings: list[str]) -> CheckItem:
    stated_quotas = selection.record["inputs"]["quotas"]
    quota_file = read_quota_file(path)  # an unreadable or invalid file is InputError
    warnings.extend(quota_file.warnings)
    quotas = quota_file.quotas
    stated = stated_quotas["digest"]
    digest = quotas_digest(quotas)
    raw_ok, raw_words = _raw_file(path, stated_quotas.get("file_sha256"))
    if digest != stated:
        mine = {(q.feature, q.value): q for q in selection.instance.quotas.rows}
        theirs = {(q.feature, q.value): q for q in quotas.rows}
        changed = [
            f"{f} {v}"
            for (f, v) in sorted(set(mine) | set(theirs))
            if mine.get((f, v)) != theirs.get((f, v))
        ]
        return CheckItem(
            "quotas file",
            False,
            f"record says {stated}, {path.name} gives {digest} "
            f"(rows that differ: {_listed(changed)})",
        )
    if raw_ok:
        return CheckItem(
            "quotas file",
            True,
            f"{path.name}: canonical digest matches {stated}; {raw_words}",
        )
    return CheckItem(
        "quotas file",
        True,
        f"{path.name}: canonical digest matches {stated}; note: {raw_words} "
        "(re-saved? the content that counts is the same)",
    )


def _panel_size_item(selection: _Selection) -> CheckItem:
    panel, k = selection.panel, selection.instance.k
    unknown = [p for p in panel if p not in selection.pool_rows]
    repeated = [p for p, count in Counter(panel).items() if count > 1]
    problems = []
    if len(panel) != k:
        problems.append(f"the panel has {len(panel)} ids where k is {k}")
    if repeated:
        problems.append(f"ids listed twice: {_listed(repeated)}")
    if unknown:
        problems.append(f"ids not in the pool: {_listed(unknown)}")
    if problems:
        return CheckItem("panel size", False, "; ".join(problems))
    return CheckItem(
        "panel size", True, f"{k} distinct people of the pool's {len(selection.pool_rows)}"
    )


def _quota_problems(
    members: Sequence[str], pool_rows: dict[str, dict[str, Any]], quota_rows: list[dict[str, Any]]
) -> list[str]:
    """Quota rows (as written) that the given people do not meet, counted from the pool rows."""
    counts = Counter(
        (feature, value)
        for person in members
        if person in pool_rows
        for feature, value in pool_rows[person]["values"].items()
    )
    return [
        f"{q['feature']} {q['value']}: {counts[(q['feature'], q['value'])]}, quota "
        f"{q['min']}-{q['max']}"
        for q in quota_rows
        if not q["min"] <= counts[(q["feature"], q["value"])] <= q["max"]
    ]


def _household_problems(members: Sequence[str], pool_rows: dict[str, dict[str, Any]]) -> list[str]:
    """Households (as numbered in the pool rows) with more than one of the given people."""
    households: dict[int, list[str]] = {}
    for person in members:
        row = pool_rows.get(person)
        if row is not None and row["household"] is not None:
            households.setdefault(int(row["household"]), []).append(person)
    return [
        f"household {h}: {', '.join(people)}"
        for h, people in sorted(households.items())
        if len(people) > 1
    ]


def _quotas_item(selection: _Selection) -> CheckItem:
    problems = _quota_problems(selection.panel, selection.pool_rows, selection.quota_rows)
    if problems:
        return CheckItem("quotas met", False, f"not met: {_listed(problems)}")
    return CheckItem(
        "quotas met",
        True,
        f"all {len(selection.quota_rows)} quotas hold on the recorded panel "
        "(counted from the record's pool)",
    )


def _household_item(selection: _Selection) -> CheckItem:
    if selection.instance.pool.households is None:
        return CheckItem("household rule", True, "no household rule (no household columns)")
    problems = _household_problems(selection.panel, selection.pool_rows)
    if problems:
        return CheckItem("household rule", False, f"shared households: {_listed(problems)}")
    note = (
        " (empty household cells were allowed: each person with one is a household of their own)"
        if allow_empty_household(selection.record, selection.name)
        else ""
    )
    return CheckItem("household rule", True, f"no two panel members share a household{note}")


def _panel_difference(recorded: list[str], derived: list[str]) -> str:
    extra = sorted(set(recorded) - set(derived))
    missing = sorted(set(derived) - set(recorded))
    if not extra and not missing:
        return "the same people, listed in another order or with repeats"
    parts = []
    if extra:
        parts.append(f"the record has {_listed(extra)} which the seed does not give")
    if missing:
        parts.append(f"the seed gives {_listed(missing)} which the record lacks")
    return "; ".join(parts)


def _draw_item(selection: _Selection) -> CheckItem:
    """Re-derive the draw from the record's committed data and its seed (sortition.draw)."""
    seed = selection.seed
    try:
        draw = derive_draw(selection.record, seed, selection.name)
    except InfeasibleError:
        return CheckItem(
            "draw", False, f"seed {seed!r}: LEGACY reaches a dead end every time it is allowed"
        )
    except (ValueError, IndexError, KeyError, TypeError) as error:
        return CheckItem("draw", False, f"seed {seed!r}: the draw cannot be re-run ({error})")
    what = {
        "legacy": f"re-runs LEGACY ({draw.attempts} attempt(s))",
        "distribution": f"draws panel {draw.panel_number} of {draw.of} of the distribution",
        "lottery": f"draws lottery panel {draw.panel_number} of {draw.of}",
        "lottery-dice": f"reads as lottery panel {draw.panel_number} of {draw.of}",
    }[draw.method]
    if draw.panel != selection.panel:
        return CheckItem(
            "draw",
            False,
            f"seed {seed!r} {what}, which is another panel: "
            + _panel_difference(selection.panel, draw.panel),
        )
    stated = selection.record.get("draw")
    if stated != draw.as_record():
        return CheckItem(
            "draw",
            False,
            f"seed {seed!r} {what}, the recorded panel, but the record's draw says {stated}",
        )
    return CheckItem("draw", True, f"seed {seed!r} {what}: the recorded panel")


def _lottery_item(selection: _Selection, fair: _FairParts) -> CheckItem:
    """The M published panels: each a feasible panel of k; the largest change of a person's
    probability they give is the one stated; everyone whose probability is at least 1/M is on
    one of them; and the stated counts (lower bound, panels of the distribution) agree."""
    record, reader = selection.record, RecordReader(selection.name)
    panels = reader.items(record, "lottery.panels")
    stated_change = reader.number(record, "lottery.max_change")
    k, m = selection.instance.k, len(panels)
    if m != reader.integer(record, "lottery.m", minimum=1):
        return CheckItem("lottery", False, f"'lottery.m' is not the {m} panels listed")
    appearances: Counter[str] = Counter()
    listed: list[list[str]] = []
    for number, panel in enumerate(panels, start=1):
        people = reader.texts({"panel": panel}, "panel")
        problems = _quota_problems(people, selection.pool_rows, selection.quota_rows)
        problems += _household_problems(people, selection.pool_rows)
        if len(set(people)) != k or not set(people) <= selection.pool_rows.keys():
            problems.append(f"not {k} distinct people of the pool")
        if problems:
            return CheckItem("lottery", False, f"panel {number}: {_listed(problems)}")
        appearances.update(people)
        listed.append(people)
    stated = reader.mapping(record, "probabilities")
    not_numbers = [p for p in selection.pool_rows if not is_number(stated.get(p, 0.0))]
    if not_numbers:
        return CheckItem(
            "lottery",
            False,
            f"cannot be checked: the recorded probabilities of {_listed(not_numbers)} are not "
            "numbers",
        )
    probability = {person: float(stated.get(person, 0.0)) for person in selection.pool_rows}
    change = max(abs(appearances[p] / m - probability[p]) for p in selection.pool_rows)
    problems = []
    if abs(change - stated_change) > CHANGE_TOLERANCE:
        problems.append(
            f"the {m} panels move a person's probability by at most {change:.6f}, the record "
            f"states {stated_change:.6f}"
        )
    left_out = [
        p
        for p in sorted(selection.pool_rows)
        if appearances[p] == 0 and needs_a_panel(probability[p], m)
    ]
    if left_out:
        who = "1 volunteer whose" if len(left_out) == 1 else f"{len(left_out)} volunteers whose"
        are = "is" if len(left_out) == 1 else "are"
        problems.append(
            f"{who} probability is at least 1/{m} {are} on none of the {m} panels: "
            f"{_listed(left_out, MAX_LEFT_OUT)}"
        )
    lottery = reader.mapping(record, "lottery")
    bound = lottery.get("lower_bound")
    if bound is not None and (not is_number(bound) or float(bound) > change + CHANGE_TOLERANCE):
        problems.append(f"the stated lower bound {bound!r} is above the change {change:.6f}")
    from_distribution = _distribution_panel_count(listed, fair)
    stated_from = lottery.get("distribution_panels")
    if stated_from is not None and stated_from != from_distribution:
        problems.append(
            f"{from_distribution} of the {m} panels are panels of the distribution, the record "
            f"states {stated_from!r}"
        )
    if problems:
        return CheckItem("lottery", False, "; ".join(problems))
    detail = (
        f"{m} feasible panels ({from_distribution} of them panels of the distribution); largest "
        f"change of a person's probability {change:.6f}"
    )
    if bound is not None:
        detail += f" (no lottery of {m} panels can do better than {float(bound):.6f})"
    needing = sum(needs_a_panel(probability[p], m) for p in selection.pool_rows)
    if needing:
        detail += f"; all {needing} volunteers with a probability of at least 1/{m} are on a panel"
    else:
        detail += f"; nobody's probability reaches 1/{m}"
    return CheckItem("lottery", True, detail)


def _distribution_panel_count(panels: list[list[str]], fair: _FairParts) -> int:
    """How many of the lottery panels are panels of the distribution: the same people on the
    person path, the same count of every unit on the type path."""
    if fair.path == "people":
        known_people = {frozenset(members) for members in fair.members}
        return sum(frozenset(panel) in known_people for panel in panels)
    unit_of = {person: u for u, members in enumerate(fair.units) for person in members}
    known_counts = set()
    for pairs in fair.counts:
        counts: Counter[int] = Counter()
        for unit, count in pairs:
            counts[unit] += count
        known_counts.add(frozenset((u, c) for u, c in counts.items() if c > 0))
    return sum(
        frozenset(Counter(unit_of.get(p, -1) for p in panel).items()) in known_counts
        for panel in panels
    )


def _published_item(selection: _Selection, expected: str) -> CheckItem:
    """The commitment digest the organiser published before the seed existed (that the record
    states the digest of its own committed part is the ``commitment`` item)."""
    derived = commitment_sha256(selection.record)
    if derived != expected:
        return CheckItem(
            "published commitment",
            False,
            f"the record's committed part hashes to {derived}, not to the published {expected}",
        )
    return CheckItem("published commitment", True, f"matches the published {expected}")


def _commitment_item(selection: _Selection) -> CheckItem:
    """The record's committed part must hash to the commitment digest it states."""
    commitment = selection.record.get("commitment")
    stated = commitment.get("sha256") if isinstance(commitment, dict) else None
    derived = commitment_sha256(selection.record)
    if stated != derived:
        return CheckItem(
            "commitment",
            False,
            f"the record states {stated}, its committed part hashes to {derived}",
        )
    return CheckItem("commitment", True, f"the committed part hashes to {derived}")


@dataclass(frozen=True)
class _FairParts:
    """The distribution of a fair-algorithm record, validated for shape (not for content)."""

    path: str  # "types" or "people"
    weights: list[float]
    units: list[list[str]]  # types path: members of each unit, as listed
    unit_values: list[dict[str, Any]]  # types path: each unit's stated values
    counts: list[list[tuple[int, int]]]  # types path: (unit, count) of each panel, as listed
    members: list[list[str]]  # people path: ids of each panel
    probabilities: dict[str, Any]
    never_selectable: list[str]
    document: dict[str, Any]

    @staticmethod
    def read(selection: _Selection, reader: RecordReader) -> _FairParts:
        record = selection.record
        document = reader.mapping(record, "distribution")
        path = reader.text(document, "path")
        if path not in ("types", "people"):
            raise reader.fail(f"'distribution.path' must be 'types' or 'people', not {path!r}")
        panels = reader.items(document, "panels")
        if not panels:
            raise reader.fail("'distribution.panels' is empty")
        weights, counts, members = [], [], []
        units: list[list[str]] = []
        unit_values: list[dict[str, Any]] = []
        if path == "types":
            for number, unit in enumerate(reader.items(document, "units"), start=1):
                units.append(reader.texts(unit, "members"))
                unit_values.append(reader.mapping(unit, "values"))
                if not units[-1]:
                    raise reader.fail(f"'distribution.units[{number}]' has no members")
        for number, panel in enumerate(panels, start=1):
            where = f"distribution.panels[{number}]"
            if not isinstance(panel, dict):
                raise reader.fail(f"'{where}' must be an object")
            weights.append(reader.number(panel, "weight"))
            if path == "people":
                members.append(reader.texts(panel, "members"))
                continue
            pairs = []
            for pair in reader.items(panel, "counts"):
                if (
                    not isinstance(pair, list)
                    or len(pair) != 2
                    or not all(is_int(x) for x in pair)
                    or not 0 <= pair[0] < len(units)
                    or pair[1] < 0
                ):
                    raise reader.fail(
                        f"'{where}.counts' must be [unit index, count] pairs of whole numbers "
                        f"(unit index below {len(units)})"
                    )
                pairs.append((int(pair[0]), int(pair[1])))
            counts.append(pairs)
        never = document.get("never_selectable", [])
        if not isinstance(never, list) or not all(isinstance(p, str) for p in never):
            raise reader.fail("'distribution.never_selectable' must be a list of ids")
        return _FairParts(
            path=path,
            weights=weights,
            units=units,
            unit_values=unit_values,
            counts=counts,
            members=members,
            probabilities=reader.mapping(record, "probabilities"),
            never_selectable=never,
            document=document,
        )


def _weights_item(fair: _FairParts) -> CheckItem:
    negative = [i + 1 for i, w in enumerate(fair.weights) if w < 0]
    total = math.fsum(fair.weights)
    problems = []
    if negative:
        problems.append(f"negative weights on panels {_listed([str(i) for i in negative])}")
    if abs(total - 1) > WEIGHT_TOLERANCE:
        problems.append(f"the weights sum to {total!r}, not 1 (within {WEIGHT_TOLERANCE:g})")
    if problems:
        return CheckItem("distribution weights", False, "; ".join(problems))
    return CheckItem(
        "distribution weights",
        True,
        f"{len(fair.weights)} non-negative weights summing to 1 (off by {abs(total - 1):.1e})",
    )


def _panels_item(selection: _Selection, fair: _FairParts) -> CheckItem:
    """Every panel of the distribution is feasible, whichever members its units give."""
    record, pool_rows, quotas = selection.record, selection.pool_rows, selection.quota_rows
    k = selection.instance.k
    problems: list[str] = []
    document = fair.document
    for key, expected in (
        ("algorithm", selection.algorithm),
        ("k", k),
        ("people", len(pool_rows)),
    ):
        if key in document and document[key] != expected:
            problems.append(
                f"the distribution's {key} is {document[key]!r}, the record's {expected!r}"
            )
    parameters = record.get("parameters")
    stated_path = parameters.get("path") if isinstance(parameters, dict) else None
    if stated_path is not None and stated_path != fair.path:
        problems.append(
            f"the distribution's path is {fair.path!r}, the parameters say {stated_path!r}"
        )
    if fair.path == "types":
        listed = [p for members in fair.units for p in members]
        unknown = sorted(set(listed) - set(pool_rows))
        twice = sorted(p for p, count in Counter(listed).items() if count > 1)
        missing = sorted(set(pool_rows) - set(listed))
        if unknown:
            problems.append(f"units list ids not in the pool: {_listed(unknown)}")
        if twice:
            problems.append(f"units list ids twice: {_listed(twice)}")
        if missing:
            problems.append(f"people in no unit: {_listed(missing)}")
        for u, (members, values) in enumerate(zip(fair.units, fair.unit_values, strict=True)):
            odd = [p for p in members if p in pool_rows and pool_rows[p]["values"] != values]
            if odd:
                problems.append(f"unit {u}: {_listed(odd)} do not have the unit's values")
    # Households with several people, for the household rule on types.
    household_of = {
        p: row["household"] for p, row in pool_rows.items() if row["household"] is not None
    }
    sizes = Counter(household_of.values())
    # Types path: how many members each unit has in each household with several people.
    unit_households = [
        Counter(
            household_of[p] for p in members if p in household_of and sizes[household_of[p]] > 1
        )
        for members in fair.units
    ]
    for index in range(len(fair.weights)):
        number = index + 1
        if fair.path == "people":
            members = fair.members[index]
            if len(members) != k:
                problems.append(f"panel {number} has {len(members)} people, not {k}")
            if len(set(members)) != len(members):
                problems.append(f"panel {number} lists someone twice")
            strangers = [p for p in members if p not in pool_rows]
            if strangers:
                problems.append(f"panel {number} has ids not in the pool: {_listed(strangers)}")
            for problem in _quota_problems(members, pool_rows, quotas):
                problems.append(f"panel {number}: {problem}")
            for problem in _household_problems(members, pool_rows):
                problems.append(f"panel {number}: {problem}")
            continue
        per_unit: Counter[int] = Counter()
        for unit, count in fair.counts[index]:
            per_unit[unit] += count
        if sum(per_unit.values()) != k:
            problems.append(f"panel {number} has {sum(per_unit.values())} people, not {k}")
        over = [str(u) for u, c in sorted(per_unit.items()) if c > len(fair.units[u])]
        if over:
            problems.append(f"panel {number} takes more than a unit has from units {_listed(over)}")
        # Quotas: each unit's count goes to its members' values (all the same, checked above).
        counted: Counter[tuple[str, str]] = Counter()
        for unit, count in per_unit.items():
            first = fair.units[unit][0]
            values = pool_rows[first]["values"] if first in pool_rows else fair.unit_values[unit]
            for feature, value in values.items():
                counted[(feature, value)] += count
        for q in quotas:
            have = counted[(q["feature"], q["value"])]
            if not q["min"] <= have <= q["max"]:
                problems.append(
                    f"panel {number}: {q['feature']} {q['value']}: {have}, quota "
                    f"{q['min']}-{q['max']}"
                )
        # Households: the most members any choice could take from one household.
        most: Counter[int] = Counter()
        for unit, count in per_unit.items():
            for household, size in unit_households[unit].items():
                most[household] += min(count, size)
        shared = [str(h) for h, m in sorted(most.items()) if m > 1]
        if shared:
            problems.append(f"panel {number} can take two people of households {_listed(shared)}")
    if problems:
        return CheckItem("distribution panels", False, _listed(problems))
    return CheckItem(
        "distribution panels",
        True,
        f"all {len(fair.weights)} panels are feasible (size {k}, every quota, households)",
    )


def _implied_probabilities(fair: _FairParts, ids: Sequence[str]) -> dict[str, float]:
    """Each person's selection probability implied by the distribution as written."""
    implied = dict.fromkeys(ids, 0.0)
    if fair.path == "people":
        for weight, members in zip(fair.weights, fair.members, strict=True):
            for person in members:
                if person in implied:
                    implied[person] += weight
    if fair.path == "types":
        unit_probability = [0.0] * len(fair.units)
        for weight, counts in zip(fair.weights, fair.counts, strict=True):
            for unit, count in counts:
                unit_probability[unit] += weight * count / len(fair.units[unit])
        for members, probability in zip(fair.units, unit_probability, strict=True):
            for person in members:
                if person in implied:
                    implied[person] += probability
    return implied


def _probabilities_item(selection: _Selection, fair: _FairParts) -> CheckItem:
    ids = selection.instance.pool.ids
    implied = _implied_probabilities(fair, ids)
    stated = fair.probabilities
    problems = []
    missing = [p for p in ids if p not in stated]
    extra = sorted(set(stated) - set(ids))
    if missing:
        problems.append(f"no probability for {_listed(missing)}")
    if extra:
        problems.append(f"probabilities for ids not in the pool: {_listed(extra)}")
    bad_type = [p for p in ids if p in stated and not is_number(stated[p])]
    if bad_type:
        problems.append(f"not a number for {_listed(bad_type)}")
    compared = [p for p in ids if p in stated and is_number(stated[p])]
    differences = {p: abs(float(stated[p]) - implied[p]) for p in compared}
    differ = [p for p in compared if differences[p] > WEIGHT_TOLERANCE]
    if differ:
        examples = [f"'{p}' record {stated[p]!r}, distribution {implied[p]!r}" for p in differ]
        problems.append(
            f"{len(differ)} differ from the distribution by more than {WEIGHT_TOLERANCE:g}: "
            + _listed(examples, 2)
        )
    positive = [p for p in fair.never_selectable if implied.get(p, 0.0) > WEIGHT_TOLERANCE]
    if positive:
        problems.append(f"listed as never selectable but on a panel: {_listed(positive)}")
    if problems:
        return CheckItem("probabilities", False, "; ".join(problems))
    largest = max(differences.values(), default=0.0)
    return CheckItem(
        "probabilities",
        True,
        f"all {len(ids)} equal the distribution's (largest difference {largest:.1e})",
    )


def _recompute_item(selection: _Selection, fair: _FairParts) -> CheckItem:
    from sortition.fairness import fair_distribution  # the engine is heavy; load it on demand

    instance, algorithm = selection.instance, selection.algorithm
    try:
        result = fair_distribution(instance, algorithm, by_type=(fair.path == "types"))
    except InfeasibleError as error:
        return CheckItem(
            "recompute", False, f"{algorithm.upper()} on the record's inputs fails: {error}"
        )
    probability = result.person_probability
    ids = instance.pool.ids
    stated = fair.probabilities
    differ, largest = [], 0.0
    for i, person in enumerate(ids):
        value = stated.get(person)
        if not is_number(value):
            differ.append(f"'{person}' record {value!r}, recomputed {float(probability[i]):.9f}")
            continue
        gap = abs(float(value) - float(probability[i]))
        largest = max(largest, gap)
        if gap > RECOMPUTE_TOLERANCE:
            differ.append(f"'{person}' record {value!r}, recomputed {float(probability[i]):.9f}")
    if differ:
        return CheckItem(
            "recompute",
            False,
            f"{algorithm.upper()} run again: {len(differ)} probabilities differ by more than "
            f"{RECOMPUTE_TOLERANCE:g}: {_listed(differ, 2)}",
        )
    return CheckItem(
        "recompute",
        True,
        f"{algorithm.upper()} run again gives every person's probability within "
        f"{RECOMPUTE_TOLERANCE:g} (largest difference {largest:.1e})",
    )


# kind -> (record versions it knows, checker). An invitation record plugs in here.
def verify_invitation(request: VerifyRequest) -> list[CheckItem]:
    from sortition.invitation_verify import verify_invitation as check  # it imports this module

    return check(request)


CHECKERS: dict[str, tuple[tuple[int, ...], Checker]] = {
    "selection": (SELECTION_VERSIONS, verify_selection),
    "invitation": ((1, 2), verify_invitation),
}
