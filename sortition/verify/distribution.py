"""The checks of a fair algorithm's record: the distribution's weights and panels, the probabilities
they imply, the algorithm run again (``--recompute``), and the M-panel lottery."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sortition.errors import InfeasibleError
from sortition.record.build import needs_a_panel
from sortition.record.reader import (
    RecordReader,
    is_number,
)
from sortition.verify.items import CheckItem, item_from, shortlist
from sortition.verify.parts import FairParts, SelectionParts, household_problems, quota_problems

WEIGHT_TOLERANCE = 1e-9  # weights sum to 1, recorded vs implied probabilities


RECOMPUTE_TOLERANCE = 1e-6  # recorded vs recomputed probabilities


MAX_LEFT_OUT = 20  # volunteers a lottery leaves out, named in its detail line


# A lottery's stated largest change and the one its panels give are the same float; round-off
# of another implementation is allowed this much.
CHANGE_TOLERANCE = 1e-12


def weights_item(fair: FairParts) -> CheckItem:
    negative = [i + 1 for i, w in enumerate(fair.weights) if w < 0]
    total = math.fsum(fair.weights)
    problems = []
    if negative:
        problems.append(f"negative weights on panels {shortlist([str(i) for i in negative])}")
    if abs(total - 1) > WEIGHT_TOLERANCE:
        problems.append(f"the weights sum to {total!r}, not 1 (within {WEIGHT_TOLERANCE:g})")
    if problems:
        return CheckItem("distribution weights", False, "; ".join(problems))
    return CheckItem(
        "distribution weights",
        True,
        f"{len(fair.weights)} non-negative weights summing to 1 (off by {abs(total - 1):.1e})",
    )


def panels_item(selection: SelectionParts, fair: FairParts) -> CheckItem:
    """Every panel of the distribution is feasible, whichever members its units give."""
    pool_rows, k = selection.pool_rows, selection.instance.k
    problems = _document_problems(selection, fair)
    if fair.path == "types":
        problems += _unit_problems(fair, pool_rows)
    unit_households = _unit_households(fair, pool_rows)
    for index in range(len(fair.weights)):
        if fair.path == "people":
            problems += _people_panel_problems(index + 1, fair.members[index], selection)
        else:
            per_unit: Counter[int] = Counter()
            for unit, count in fair.counts[index]:
                per_unit[unit] += count
            problems += _type_panel_problems(index + 1, per_unit, fair, selection, unit_households)
    return item_from(
        "distribution panels",
        problems,
        f"all {len(fair.weights)} panels are feasible (size {k}, every quota, households)",
    )


def _document_problems(selection: SelectionParts, fair: FairParts) -> list[str]:
    """The distribution's algorithm, k, number of people and path against the record's."""
    problems = []
    document = fair.document
    for key, expected in (
        ("algorithm", selection.algorithm),
        ("k", selection.instance.k),
        ("people", len(selection.pool_rows)),
    ):
        if key in document and document[key] != expected:
            problems.append(
                f"the distribution's {key} is {document[key]!r}, the record's {expected!r}"
            )
    parameters = selection.record.get("parameters")
    stated_path = parameters.get("path") if isinstance(parameters, dict) else None
    if stated_path is not None and stated_path != fair.path:
        problems.append(
            f"the distribution's path is {fair.path!r}, the parameters say {stated_path!r}"
        )
    return problems


def _unit_problems(fair: FairParts, pool_rows: dict[str, dict[str, Any]]) -> list[str]:
    """Types path: the units list every person of the pool once, each with the unit's values."""
    problems = []
    listed = [p for members in fair.units for p in members]
    unknown = sorted(set(listed) - set(pool_rows))
    twice = sorted(p for p, count in Counter(listed).items() if count > 1)
    missing = sorted(set(pool_rows) - set(listed))
    if unknown:
        problems.append(f"units list ids not in the pool: {shortlist(unknown)}")
    if twice:
        problems.append(f"units list ids twice: {shortlist(twice)}")
    if missing:
        problems.append(f"people in no unit: {shortlist(missing)}")
    for u, (members, values) in enumerate(zip(fair.units, fair.unit_values, strict=True)):
        odd = [p for p in members if p in pool_rows and pool_rows[p]["values"] != values]
        if odd:
            problems.append(f"unit {u}: {shortlist(odd)} do not have the unit's values")
    return problems


def _unit_households(fair: FairParts, pool_rows: dict[str, dict[str, Any]]) -> list[Counter[int]]:
    """Types path: how many members each unit has in each household with several people."""
    household_of = {
        p: row["household"] for p, row in pool_rows.items() if row["household"] is not None
    }
    sizes = Counter(household_of.values())
    return [
        Counter(
            household_of[p] for p in members if p in household_of and sizes[household_of[p]] > 1
        )
        for members in fair.units
    ]


def _people_panel_problems(
    number: int, members: Sequence[str], selection: SelectionParts
) -> list[str]:
    """Person path: panel ``number`` has k different people of the pool, meets every quota and
    the household rule."""
    pool_rows, k = selection.pool_rows, selection.instance.k
    problems = []
    if len(members) != k:
        problems.append(f"panel {number} has {len(members)} people, not {k}")
    if len(set(members)) != len(members):
        problems.append(f"panel {number} lists someone twice")
    strangers = [p for p in members if p not in pool_rows]
    if strangers:
        problems.append(f"panel {number} has ids not in the pool: {shortlist(strangers)}")
    for problem in quota_problems(members, pool_rows, selection.quota_rows):
        problems.append(f"panel {number}: {problem}")
    for problem in household_problems(members, pool_rows):
        problems.append(f"panel {number}: {problem}")
    return problems


def _type_panel_problems(
    number: int,
    per_unit: Counter[int],
    fair: FairParts,
    selection: SelectionParts,
    unit_households: list[Counter[int]],
) -> list[str]:
    """Types path: panel ``number`` (a count per unit) has k people, no more of a unit than it
    has, meets every quota, and no choice of members can take two people of one household."""
    pool_rows, k = selection.pool_rows, selection.instance.k
    problems = []
    if sum(per_unit.values()) != k:
        problems.append(f"panel {number} has {sum(per_unit.values())} people, not {k}")
    over = [str(u) for u, c in sorted(per_unit.items()) if c > len(fair.units[u])]
    if over:
        problems.append(f"panel {number} takes more than a unit has from units {shortlist(over)}")
    # Quotas: each unit's count goes to its members' values (all the same, checked above).
    counted: Counter[tuple[str, str]] = Counter()
    for unit, count in per_unit.items():
        first = fair.units[unit][0]
        values = pool_rows[first]["values"] if first in pool_rows else fair.unit_values[unit]
        for feature, value in values.items():
            counted[(feature, value)] += count
    for q in selection.quota_rows:
        have = counted[(q["feature"], q["value"])]
        if not q["min"] <= have <= q["max"]:
            problems.append(
                f"panel {number}: {q['feature']} {q['value']}: {have}, quota {q['min']}-{q['max']}"
            )
    # Households: the most members any choice could take from one household.
    most: Counter[int] = Counter()
    for unit, count in per_unit.items():
        for household, size in unit_households[unit].items():
            most[household] += min(count, size)
    shared = [str(h) for h, m in sorted(most.items()) if m > 1]
    if shared:
        problems.append(f"panel {number} can take two people of households {shortlist(shared)}")
    return problems


def _implied_probabilities(fair: FairParts, ids: Sequence[str]) -> dict[str, float]:
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


def probabilities_item(selection: SelectionParts, fair: FairParts) -> CheckItem:
    ids = selection.instance.pool.ids
    implied = _implied_probabilities(fair, ids)
    stated = fair.probabilities
    problems = []
    missing = [p for p in ids if p not in stated]
    extra = sorted(set(stated) - set(ids))
    if missing:
        problems.append(f"no probability for {shortlist(missing)}")
    if extra:
        problems.append(f"probabilities for ids not in the pool: {shortlist(extra)}")
    bad_type = [p for p in ids if p in stated and not is_number(stated[p])]
    if bad_type:
        problems.append(f"not a number for {shortlist(bad_type)}")
    compared = [p for p in ids if p in stated and is_number(stated[p])]
    differences = {p: abs(float(stated[p]) - implied[p]) for p in compared}
    differ = [p for p in compared if differences[p] > WEIGHT_TOLERANCE]
    if differ:
        examples = [f"'{p}' record {stated[p]!r}, distribution {implied[p]!r}" for p in differ]
        problems.append(
            f"{len(differ)} differ from the distribution by more than {WEIGHT_TOLERANCE:g}: "
            + shortlist(examples, 2)
        )
    positive = [p for p in fair.never_selectable if implied.get(p, 0.0) > WEIGHT_TOLERANCE]
    if positive:
        problems.append(f"listed as never selectable but on a panel: {shortlist(positive)}")
    if problems:
        return CheckItem("probabilities", False, "; ".join(problems))
    largest = max(differences.values(), default=0.0)
    return CheckItem(
        "probabilities",
        True,
        f"all {len(ids)} equal the distribution's (largest difference {largest:.1e})",
    )


def _gamma(selection: SelectionParts) -> float:
    """GOLDILOCKS's gamma as the record's parameters state it (default 1)."""
    parameters = selection.record.get("parameters")
    gamma = parameters.get("gamma", 1.0) if isinstance(parameters, dict) else 1.0
    return float(gamma) if is_number(gamma) else math.nan


def _goldilocks(selection: SelectionParts, everyone: list[float], selectable: list[float]) -> float:
    """max p / m + gamma * m / min p, m = k / n (docs/algorithms.md)."""
    mean = selection.instance.k / len(everyone)
    return max(everyone) / mean + _gamma(selection) * mean / min(selectable)


# The objectives a certificate may name, and how its value follows from the probabilities (of
# everyone, of the people on some feasible panel); docs/algorithms.md.
_CERTIFIED_OBJECTIVES: dict[str, Callable[[SelectionParts, list[float], list[float]], float]] = {
    "smallest probability": lambda _, __, p: min(p),
    "mean log probability": lambda _, __, p: (
        math.fsum(math.log(max(x, 1e-300)) for x in p) / len(p)
    ),
    "goldilocks": _goldilocks,
}
CERTIFIED_GAP = 1e-6  # a gap at most this is "optimal (certified)" (sortition.units)


def certificate_item(selection: SelectionParts, fair: FairParts) -> CheckItem | None:
    """Version 5 on: the distribution's certificate names an objective, its value is the one the
    distribution's probabilities give, and its gap is the one its bound and value give. None for
    an older record (which has none)."""
    if selection.record.get("version", 0) < 5:
        return None
    certificate = fair.document.get("certificate")
    if not isinstance(certificate, dict):
        return CheckItem("certificate", False, "the distribution has no 'certificate'")
    objective, sense = certificate.get("objective"), certificate.get("sense")
    numbers = {key: certificate.get(key) for key in ("bound", "value", "gap")}
    if objective not in _CERTIFIED_OBJECTIVES or sense not in ("max", "min"):
        return CheckItem(
            "certificate", False, f"unknown objective {objective!r} or sense {sense!r}"
        )
    if not all(is_number(v) for v in numbers.values()):
        return CheckItem("certificate", False, f"bound, value and gap must be numbers: {numbers}")
    bound, value, gap = (float(numbers[key] or 0.0) for key in ("bound", "value", "gap"))
    never = set(fair.never_selectable)
    implied = _implied_probabilities(fair, selection.instance.pool.ids)
    selectable = [p for person, p in implied.items() if person not in never]
    problems = []
    if selectable:
        reached = _CERTIFIED_OBJECTIVES[objective](selection, list(implied.values()), selectable)
        if abs(reached - value) > WEIGHT_TOLERANCE:
            problems.append(f"value {value!r}, the distribution gives {reached!r}")
    difference = bound - value if sense == "max" else value - bound
    expected_gap = max(0.0, difference)
    if objective != "mean log probability":
        expected_gap /= max(abs(bound), 1e-300)
    if abs(expected_gap - gap) > WEIGHT_TOLERANCE:
        problems.append(f"gap {gap!r}, its bound and value give {expected_gap!r}")
    if problems:
        return CheckItem("certificate", False, "; ".join(problems))
    verdict = "optimal (certified)" if gap <= CERTIFIED_GAP else f"gap {gap:.2e} to the optimum"
    return CheckItem(
        "certificate",
        True,
        f"{verdict}: {objective} {value:.9g}, bound {bound:.9g} (the bound is re-derived by "
        "--recompute)",
    )


def _certificate_difference(fair: FairParts, recomputed: dict[str, Any] | None) -> str | None:
    """How the record's certificate bound differs from the recomputed one (None: it does not)."""
    stated = fair.document.get("certificate")
    if not isinstance(stated, dict):
        return None
    if recomputed is None:
        return "the algorithm run again gives no certificate"
    bound = stated.get("bound")
    if not is_number(bound) or abs(float(bound) - float(recomputed["bound"])) > RECOMPUTE_TOLERANCE:
        return f"certificate bound: record {bound!r}, recomputed {recomputed['bound']!r}"
    return None


def recompute_item(selection: SelectionParts, fair: FairParts) -> CheckItem:
    from sortition.engine.objectives import (
        fair_distribution,  # the engine is heavy; load it on demand
    )
    from sortition.engine.settings import EngineSettings

    instance, algorithm = selection.instance, selection.algorithm
    # Records before version 6 were computed with CP-SAT at every walk step and covering panel;
    # where the optimum is not unique (MAXIMIN above the smallest, GOLDILOCKS), the cheap steps
    # may reach another optimal distribution, so an older record is recomputed as it was made.
    version = selection.record.get("version", 0)
    cheap = isinstance(version, int) and version >= 6
    settings = EngineSettings(gamma=_gamma(selection), cheap_steps=cheap)
    try:
        result = fair_distribution(
            instance, algorithm, by_type=(fair.path == "types"), settings=settings
        )
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
            f"{RECOMPUTE_TOLERANCE:g}: {shortlist(differ, 2)}",
        )
    certificate = result.distribution.certificate
    difference = _certificate_difference(
        fair, None if certificate is None else certificate.as_record()
    )
    if difference is not None:
        return CheckItem("recompute", False, f"{algorithm.upper()} run again: {difference}")
    bound = "" if certificate is None else " and the certificate's bound"
    return CheckItem(
        "recompute",
        True,
        f"{algorithm.upper()} run again gives every person's probability{bound} within "
        f"{RECOMPUTE_TOLERANCE:g} (largest difference {largest:.1e})",
    )


def lottery_item(selection: SelectionParts, fair: FairParts) -> CheckItem:
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
        problems = quota_problems(people, selection.pool_rows, selection.quota_rows)
        problems += household_problems(people, selection.pool_rows)
        if len(set(people)) != k or not set(people) <= selection.pool_rows.keys():
            problems.append(f"not {k} distinct people of the pool")
        if problems:
            return CheckItem("lottery", False, f"panel {number}: {shortlist(problems)}")
        appearances.update(people)
        listed.append(people)
    stated = reader.mapping(record, "probabilities")
    not_numbers = [p for p in selection.pool_rows if not is_number(stated.get(p, 0.0))]
    if not_numbers:
        return CheckItem(
            "lottery",
            False,
            f"cannot be checked: the recorded probabilities of {shortlist(not_numbers)} are not "
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
            f"{shortlist(left_out, MAX_LEFT_OUT)}"
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


def _distribution_panel_count(panels: list[list[str]], fair: FairParts) -> int:
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
