"""The checks of a fair algorithm's record: the distribution's weights and panels, the probabilities
they imply, the algorithm run again (``--recompute``), and the M-panel lottery."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sortition.engine.diversity import DIVERSITY_OBJECTIVE
from sortition.errors import N_, InfeasibleError, Message, Problem
from sortition.record.build import needs_a_panel, tool_versions
from sortition.record.reader import (
    RecordReader,
    is_number,
)
from sortition.verify.diversity import panel_scores
from sortition.verify.items import CheckItem, item_from, joined, shortlist
from sortition.verify.parts import FairParts, SelectionParts, household_problems, quota_problems

if TYPE_CHECKING:
    from sortition.engine.objectives import DiversityPrice

WEIGHT_TOLERANCE = 1e-9  # weights sum to 1, recorded vs implied probabilities


RECOMPUTE_TOLERANCE = 1e-6  # recorded vs recomputed probabilities


MAX_LEFT_OUT = 20  # volunteers a lottery leaves out, named in its detail line


# A lottery's stated largest change and the one its panels give are the same float; round-off
# of another implementation is allowed this much.
CHANGE_TOLERANCE = 1e-12


def weights_item(fair: FairParts) -> CheckItem:
    negative = [i + 1 for i, w in enumerate(fair.weights) if w < 0]
    total = math.fsum(fair.weights)
    problems: list[str] = []
    if negative:
        problems.append(
            Message(
                N_("negative weights on panels {panels}"),
                panels=shortlist([str(i) for i in negative]),
            )
        )
    if abs(total - 1) > WEIGHT_TOLERANCE:
        problems.append(
            Message(
                N_("the weights sum to {total}, not 1 (within {tolerance})"),
                total=repr(total),
                tolerance=f"{WEIGHT_TOLERANCE:g}",
            )
        )
    if problems:
        return CheckItem("distribution weights", False, joined(problems, "; "))
    return CheckItem(
        "distribution weights",
        True,
        Message(
            N_("{panels} non-negative weights summing to 1 (off by {off})"),
            panels=len(fair.weights),
            off=f"{abs(total - 1):.1e}",
        ),
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
        Message(
            N_("all {panels} panels are feasible (size {k}, every quota, households)"),
            panels=len(fair.weights),
            k=k,
        ),
    )


def _document_problems(selection: SelectionParts, fair: FairParts) -> list[str]:
    """The distribution's algorithm, k, number of people and path against the record's."""
    problems: list[str] = []
    document = fair.document
    for key, expected in (
        ("algorithm", selection.algorithm),
        ("k", selection.instance.k),
        ("people", len(selection.pool_rows)),
    ):
        if key in document and document[key] != expected:
            problems.append(
                Message(
                    N_("the distribution's {key} is {stated}, the record's {expected}"),
                    key=key,
                    stated=repr(document[key]),
                    expected=repr(expected),
                )
            )
    parameters = selection.record.get("parameters")
    stated_path = parameters.get("path") if isinstance(parameters, dict) else None
    if stated_path is not None and stated_path != fair.path:
        problems.append(
            Message(
                N_("the distribution's path is {path}, the parameters say {stated}"),
                path=repr(fair.path),
                stated=repr(stated_path),
            )
        )
    return problems


def _unit_problems(fair: FairParts, pool_rows: dict[str, dict[str, Any]]) -> list[str]:
    """Types path: the units list every person of the pool once, each with the unit's values."""
    problems: list[str] = []
    listed = [p for members in fair.units for p in members]
    unknown = sorted(set(listed) - set(pool_rows))
    twice = sorted(p for p, count in Counter(listed).items() if count > 1)
    missing = sorted(set(pool_rows) - set(listed))
    if unknown:
        problems.append(
            Message(N_("units list ids not in the pool: {ids}"), ids=shortlist(unknown))
        )
    if twice:
        problems.append(Message(N_("units list ids twice: {ids}"), ids=shortlist(twice)))
    if missing:
        problems.append(Message(N_("people in no unit: {ids}"), ids=shortlist(missing)))
    for u, (members, values) in enumerate(zip(fair.units, fair.unit_values, strict=True)):
        odd = [p for p in members if p in pool_rows and pool_rows[p]["values"] != values]
        if odd:
            problems.append(
                Message(
                    N_("unit {unit}: {ids} do not have the unit's values"),
                    unit=u,
                    ids=shortlist(odd),
                )
            )
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
    problems: list[str] = []
    if len(members) != k:
        problems.append(
            Message(
                N_("panel {number} has {people} people, not {k}"),
                number=number,
                people=len(members),
                k=k,
            )
        )
    if len(set(members)) != len(members):
        problems.append(Message(N_("panel {number} lists someone twice"), number=number))
    strangers = [p for p in members if p not in pool_rows]
    if strangers:
        problems.append(
            Message(
                N_("panel {number} has ids not in the pool: {ids}"),
                number=number,
                ids=shortlist(strangers),
            )
        )
    for problem in quota_problems(members, pool_rows, selection.quota_rows):
        problems.append(Message(N_("panel {number}: {problem}"), number=number, problem=problem))
    for problem in household_problems(members, pool_rows):
        problems.append(Message(N_("panel {number}: {problem}"), number=number, problem=problem))
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
    problems: list[str] = []
    if sum(per_unit.values()) != k:
        problems.append(
            Message(
                N_("panel {number} has {people} people, not {k}"),
                number=number,
                people=sum(per_unit.values()),
                k=k,
            )
        )
    over = [str(u) for u, c in sorted(per_unit.items()) if c > len(fair.units[u])]
    if over:
        problems.append(
            Message(
                N_("panel {number} takes more than a unit has from units {units}"),
                number=number,
                units=shortlist(over),
            )
        )
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
                Message(
                    N_("panel {number}: {feature} {value}: {have}, quota {min}-{max}"),
                    number=number,
                    feature=q["feature"],
                    value=q["value"],
                    have=have,
                    min=q["min"],
                    max=q["max"],
                )
            )
    # Households: the most members any choice could take from one household.
    most: Counter[int] = Counter()
    for unit, count in per_unit.items():
        for household, size in unit_households[unit].items():
            most[household] += min(count, size)
    shared = [str(h) for h, m in sorted(most.items()) if m > 1]
    if shared:
        problems.append(
            Message(
                N_("panel {number} can take two people of households {households}"),
                number=number,
                households=shortlist(shared),
            )
        )
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
    problems: list[str] = []
    missing = [p for p in ids if p not in stated]
    extra = sorted(set(stated) - set(ids))
    if missing:
        problems.append(Message(N_("no probability for {ids}"), ids=shortlist(missing)))
    if extra:
        problems.append(
            Message(N_("probabilities for ids not in the pool: {ids}"), ids=shortlist(extra))
        )
    bad_type = [p for p in ids if p in stated and not is_number(stated[p])]
    if bad_type:
        problems.append(Message(N_("not a number for {ids}"), ids=shortlist(bad_type)))
    compared = [p for p in ids if p in stated and is_number(stated[p])]
    differences = {p: abs(float(stated[p]) - implied[p]) for p in compared}
    differ = [p for p in compared if differences[p] > WEIGHT_TOLERANCE]
    if differ:
        examples = [
            Message(
                N_("'{id}' record {stated}, distribution {implied}"),
                id=p,
                stated=repr(stated[p]),
                implied=repr(implied[p]),
            )
            for p in differ
        ]
        problems.append(
            Message(
                N_("{count} differ from the distribution by more than {tolerance}: {examples}"),
                count=len(differ),
                tolerance=f"{WEIGHT_TOLERANCE:g}",
                examples=shortlist(examples, 2),
            )
        )
    positive = [p for p in fair.never_selectable if implied.get(p, 0.0) > WEIGHT_TOLERANCE]
    if positive:
        problems.append(
            Message(N_("listed as never selectable but on a panel: {ids}"), ids=shortlist(positive))
        )
    if problems:
        return CheckItem("probabilities", False, joined(problems, "; "))
    largest = max(differences.values(), default=0.0)
    return CheckItem(
        "probabilities",
        True,
        Message(
            N_("all {people} equal the distribution's (largest difference {largest})"),
            people=len(ids),
            largest=f"{largest:.1e}",
        ),
    )


def _gamma(selection: SelectionParts) -> float:
    """GOLDILOCKS's gamma as the record's parameters state it (default 1)."""
    parameters = selection.record.get("parameters")
    gamma = parameters.get("gamma", 1.0) if isinstance(parameters, dict) else 1.0
    return float(gamma) if is_number(gamma) else math.nan


def _goldilocks(k: int, gamma: float, everyone: list[float], selectable: list[float]) -> float:
    """max p / m + gamma * m / min p, m = k / n (docs/algorithms.md)."""
    mean = k / len(everyone)
    return max(everyone) / mean + gamma * mean / min(selectable)


# The objectives a certificate may name, and how its value follows from k, gamma and the
# probabilities (of everyone, of the people on some feasible panel); docs/algorithms.md.
_CERTIFIED_OBJECTIVES: dict[str, Callable[[int, float, list[float], list[float]], float]] = {
    "smallest probability": lambda _, __, ___, p: min(p),
    "mean log probability": lambda _, __, ___, p: (
        math.fsum(math.log(max(x, 1e-300)) for x in p) / len(p)
    ),
    "goldilocks": _goldilocks,
}
CERTIFIED_GAP = 1e-6  # a gap at most this is "optimal (certified)" (sortition.units)
# The objectives' names as a reader sees them (the record keeps the English words).
_OBJECTIVE_NAMES = {
    "smallest probability": N_("smallest probability"),
    "mean log probability": N_("mean log probability"),
    "goldilocks": N_("goldilocks"),
    DIVERSITY_OBJECTIVE: N_("diversity score"),
}


def objective_name(objective: object) -> str:
    """A certificate's objective in the reader's language (as a ``Message``); an unknown one as
    it is written."""
    name = _OBJECTIVE_NAMES.get(str(objective))
    return Message(name) if name is not None else str(objective)


def certificate_item(selection: SelectionParts, fair: FairParts) -> CheckItem | None:
    """Version 5 on: the distribution's certificate names an objective, its value is the one the
    distribution's probabilities give, and its gap is the one its bound and value give. None for
    an older record (which has none)."""
    if selection.record.get("version", 0) < 5:
        return None
    never = set(fair.never_selectable)
    implied = _implied_probabilities(fair, selection.instance.pool.ids)
    selectable = [p for person, p in implied.items() if person not in never]
    return certificate_check(
        fair.document.get("certificate"),
        list(implied.values()),
        selectable,
        selection.instance.k,
        _gamma(selection),
        lambda: float(max(panel_scores(selection, fair))),
    )


def certificate_gap(objective: str, sense: str, bound: float, value: float) -> float:
    """The gap a certificate's bound and value give: how far the value falls short of the
    bound, relative to it (docs/algorithms.md), but for the mean log probability, a logarithm,
    in its own units; never below 0."""
    difference = max(0.0, bound - value if sense == "max" else value - bound)
    if objective == "mean log probability":
        return difference
    return difference / max(abs(bound), 1e-300)


def certificate_check(
    certificate: Any,
    everyone: list[float],
    selectable: list[float],
    k: int,
    gamma: float,
    panel_score: Callable[[], float] | None = None,
) -> CheckItem:
    """The ``certificate`` item from the probabilities the distribution implies (of everyone, of
    the people on some feasible panel), the panel size and GOLDILOCKS's gamma; DIVERSIMAX's
    from ``panel_score``, the diversity score of its one panel (docs/diversity.md)."""
    if not isinstance(certificate, dict):
        detail = Message(N_("the distribution has no 'certificate'"))
        return CheckItem("certificate", False, detail)
    objective, sense = certificate.get("objective"), certificate.get("sense")
    numbers = {key: certificate.get(key) for key in ("bound", "value", "gap")}
    known = objective in _CERTIFIED_OBJECTIVES or objective == DIVERSITY_OBJECTIVE
    if not known or sense not in ("max", "min"):
        detail = Message(
            N_("unknown objective {objective} or sense {sense}"),
            objective=repr(objective),
            sense=repr(sense),
        )
        return CheckItem("certificate", False, detail)
    if not all(is_number(v) for v in numbers.values()):
        detail = Message(N_("bound, value and gap must be numbers: {numbers}"), numbers=numbers)
        return CheckItem("certificate", False, detail)
    bound, value, gap = (float(numbers[key] or 0.0) for key in ("bound", "value", "gap"))
    problems: list[str] = []
    if objective == DIVERSITY_OBJECTIVE:
        # DIVERSIMAX: the score of its panel, from the record's pool (docs/diversity.md)
        if panel_score is None:
            problems.append(Message(N_("a diversity score needs the people of its panel")))
        else:
            reached = panel_score()
            if abs(reached - value) > WEIGHT_TOLERANCE:
                problems.append(
                    Message(
                        N_("value {value}, the distribution's panel scores {reached}"),
                        value=repr(value),
                        reached=repr(reached),
                    )
                )
    elif selectable:
        reached = _CERTIFIED_OBJECTIVES[str(objective)](k, gamma, everyone, selectable)
        if abs(reached - value) > WEIGHT_TOLERANCE:
            problems.append(
                Message(
                    N_("value {value}, the distribution gives {reached}"),
                    value=repr(value),
                    reached=repr(reached),
                )
            )
    expected_gap = certificate_gap(str(objective), str(sense), bound, value)
    if abs(expected_gap - gap) > WEIGHT_TOLERANCE:
        problems.append(
            Message(
                N_("gap {gap}, its bound and value give {expected}"),
                gap=repr(gap),
                expected=repr(expected_gap),
            )
        )
    if problems:
        return CheckItem("certificate", False, joined(problems, "; "))
    verdict = (
        Message(N_("optimal (certified)"))
        if gap <= CERTIFIED_GAP
        else Message(N_("gap {gap} to the optimum"), gap=f"{gap:.2e}")
    )
    return CheckItem(
        "certificate",
        True,
        Message(
            N_(
                "{verdict}: {objective} {value}, bound {bound} (the bound is re-derived by "
                "--recompute)"
            ),
            verdict=verdict,
            objective=objective_name(objective),
            value=f"{value:.9g}",
            bound=f"{bound:.9g}",
        ),
    )


def certificate_difference(stated: Any, recomputed: dict[str, Any] | None) -> str | None:
    """How a record's ``stated`` certificate bound differs from the recomputed certificate
    (None: it does not, or the record states no certificate)."""
    if not isinstance(stated, dict):
        return None
    if recomputed is None:
        return Message(N_("the algorithm run again gives no certificate"))
    bound = stated.get("bound")
    if not is_number(bound) or abs(float(bound) - float(recomputed["bound"])) > RECOMPUTE_TOLERANCE:
        return Message(
            N_("certificate bound: record {stated}, recomputed {recomputed}"),
            stated=repr(bound),
            recomputed=repr(recomputed["bound"]),
        )
    return None


# The fair objectives whose optimum does not fix every person's probability: MAXIMIN fixes the
# smallest, GOLDILOCKS its two extremes; NASH's optimum is unique, but a point realised to its
# certified gap (1e-6) may differ from another such point by more than RECOMPUTE_TOLERANCE.
# LEXIMIN's optimum fixes every probability, so a difference is a mismatch.
NOT_FIXED_BY_THE_OPTIMUM = frozenset({"maximin", "nash", "goldilocks"})


def other_versions(record: dict[str, Any]) -> str | None:
    """The tool and solver versions that wrote ``record`` when they are not this one's (None:
    the same, so a re-run must give the record's numbers exactly)."""
    tool = record.get("tool")
    if not isinstance(tool, dict) or {k: str(v) for k, v in tool.items()} == tool_versions():
        return None
    return ", ".join(f"{k} {v}" for k, v in tool.items())


def same_optimum(
    algorithm: str,
    stated: list[float],
    again: list[float],
    k: int,
    gamma: float,
    certificate: Any,
    recomputed: dict[str, Any] | None,
    written_by: str | None,
) -> str | None:
    """When the re-run's probabilities (``again``) differ from the record's (``stated``, both
    per person in the pool's order) and the record was written by other versions
    (``written_by``; the same versions give the same numbers, docs/randomness.md): the detail of
    a passing ``recompute`` if the record's distribution is optimal all the same — an objective
    whose optimum does not fix every probability, the same people on no feasible panel, the
    re-run's certificate bound equal to the record's, and the record's probabilities within the
    certified gap of that bound. So a record made by another version (or another implementation)
    that reached another optimal distribution passes. None otherwise."""
    if written_by is None or algorithm not in NOT_FIXED_BY_THE_OPTIMUM or recomputed is None:
        return None
    if not isinstance(certificate, dict) or certificate_difference(certificate, recomputed):
        return None
    objective = recomputed.get("objective")
    if objective not in _CERTIFIED_OBJECTIVES or certificate.get("objective") != objective:
        return None
    zero = [p <= RECOMPUTE_TOLERANCE for p in again]
    if any(z != (p <= RECOMPUTE_TOLERANCE) for z, p in zip(zero, stated, strict=True)):
        return None
    selectable = [p for p, z in zip(stated, zero, strict=True) if not z]
    if not selectable:
        return None
    reached = _CERTIFIED_OBJECTIVES[str(objective)](k, gamma, stated, selectable)
    bound = float(recomputed["bound"])
    gap = certificate_gap(str(objective), str(recomputed.get("sense")), bound, reached)
    allowed = max(CERTIFIED_GAP, float(recomputed.get("gap", 0.0)))
    if gap > allowed + RECOMPUTE_TOLERANCE:
        return None
    largest = max(abs(a - b) for a, b in zip(stated, again, strict=True))
    return Message(
        N_(
            "{algorithm} run again (the record was written by {written}) reaches the same "
            "optimum: {objective} {reached} from the record's probabilities, the recomputed bound "
            "{bound} (gap {gap}); the probabilities differ by up to {largest}, which this "
            "objective's optimum leaves free"
        ),
        algorithm=algorithm.upper(),
        written=written_by,
        objective=objective_name(objective),
        reached=f"{reached:.9g}",
        bound=f"{bound:.9g}",
        gap=f"{gap:.1e}",
        largest=f"{largest:.1e}",
    )


def _diversity_difference(fair: FairParts, recomputed: DiversityPrice | None) -> str | None:
    """How the record's best diversity score differs from the recomputed one (None: it does
    not, or the record has no diversity bound)."""
    stated = fair.document.get("diversity")
    if not isinstance(stated, dict):
        return None
    if recomputed is None:
        return Message(N_("the algorithm run again has no diversity bound"))
    best = stated.get("best")
    if not is_number(best) or abs(float(best) - recomputed.best) > RECOMPUTE_TOLERANCE:
        return Message(
            N_("best diversity score: record {stated}, recomputed {recomputed}"),
            stated=repr(best),
            recomputed=repr(recomputed.best),
        )
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
    parameters = selection.record.get("parameters")
    within = parameters.get("diversity_within") if isinstance(parameters, dict) else None
    try:
        result = fair_distribution(
            instance,
            algorithm,
            by_type=(fair.path == "types"),
            settings=settings,
            diversity_within=float(within) if is_number(within) else None,
        )
    except InfeasibleError as error:
        why: str | Problem = error.problems[0] if len(error.problems) == 1 else str(error)
        detail = Message(
            N_("{algorithm} on the record's inputs fails: {error}"),
            algorithm=algorithm.upper(),
            error=why,
        )
        return CheckItem("recompute", False, detail)
    probability = result.person_probability
    ids = instance.pool.ids
    stated = fair.probabilities
    differ, largest = [], 0.0
    for i, person in enumerate(ids):
        value = stated.get(person)
        if not is_number(value):
            differ.append(_recomputed_example(person, value, float(probability[i])))
            continue
        gap = abs(float(value) - float(probability[i]))
        largest = max(largest, gap)
        if gap > RECOMPUTE_TOLERANCE:
            differ.append(_recomputed_example(person, value, float(probability[i])))
    certificate = result.distribution.certificate
    if differ and all(is_number(stated.get(person)) for person in ids):
        same = same_optimum(
            algorithm,
            [float(stated[person]) for person in ids],
            [float(p) for p in probability],
            instance.k,
            settings.gamma,
            fair.document.get("certificate"),
            None if certificate is None else certificate.as_record(),
            other_versions(selection.record),
        )
        if same is not None:
            return CheckItem("recompute", True, same)
    if differ:
        return CheckItem(
            "recompute",
            False,
            Message(
                N_(
                    "{algorithm} run again: {count} probabilities differ by more than "
                    "{tolerance}: {examples}"
                ),
                algorithm=algorithm.upper(),
                count=len(differ),
                tolerance=f"{RECOMPUTE_TOLERANCE:g}",
                examples=shortlist(differ, 2),
            ),
        )
    difference = certificate_difference(
        fair.document.get("certificate"), None if certificate is None else certificate.as_record()
    )
    if difference is None:
        difference = _diversity_difference(fair, result.diversity)
    if difference is not None:
        detail = Message(
            N_("{algorithm} run again: {difference}"),
            algorithm=algorithm.upper(),
            difference=difference,
        )
        return CheckItem("recompute", False, detail)
    template = (
        N_(
            "{algorithm} run again gives every person's probability within {tolerance} "
            "(largest difference {largest})"
        )
        if certificate is None
        else N_(
            "{algorithm} run again gives every person's probability and the certificate's "
            "bound within {tolerance} (largest difference {largest})"
        )
    )
    return CheckItem(
        "recompute",
        True,
        Message(
            template,
            algorithm=algorithm.upper(),
            tolerance=f"{RECOMPUTE_TOLERANCE:g}",
            largest=f"{largest:.1e}",
        ),
    )


def _recomputed_example(person: str, value: object, recomputed: float) -> str:
    return Message(
        N_("'{id}' record {stated}, recomputed {recomputed}"),
        id=person,
        stated=repr(value),
        recomputed=f"{recomputed:.9f}",
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
        detail = Message(N_("'lottery.m' is not the {m} panels listed"), m=m)
        return CheckItem("lottery", False, detail)
    appearances: Counter[str] = Counter()
    listed: list[list[str]] = []
    for number, panel in enumerate(panels, start=1):
        people = reader.texts({"panel": panel}, "panel")
        problems = quota_problems(people, selection.pool_rows, selection.quota_rows)
        problems += household_problems(people, selection.pool_rows)
        if len(set(people)) != k or not set(people) <= selection.pool_rows.keys():
            problems.append(Message(N_("not {k} distinct people of the pool"), k=k))
        if problems:
            detail = Message(
                N_("panel {number}: {problem}"), number=number, problem=shortlist(problems)
            )
            return CheckItem("lottery", False, detail)
        appearances.update(people)
        listed.append(people)
    stated = reader.mapping(record, "probabilities")
    not_numbers = [p for p in selection.pool_rows if not is_number(stated.get(p, 0.0))]
    if not_numbers:
        return CheckItem(
            "lottery",
            False,
            Message(
                N_("cannot be checked: the recorded probabilities of {ids} are not numbers"),
                ids=shortlist(not_numbers),
            ),
        )
    probability = {person: float(stated.get(person, 0.0)) for person in selection.pool_rows}
    change = max(abs(appearances[p] / m - probability[p]) for p in selection.pool_rows)
    problems = []
    if abs(change - stated_change) > CHANGE_TOLERANCE:
        problems.append(
            Message(
                N_(
                    "the {m} panels move a person's probability by at most {change}, the record "
                    "states {stated}"
                ),
                m=m,
                change=f"{change:.6f}",
                stated=f"{stated_change:.6f}",
            )
        )
    left_out = [
        p
        for p in sorted(selection.pool_rows)
        if appearances[p] == 0 and needs_a_panel(probability[p], m)
    ]
    if left_out:
        template = (
            N_(
                "1 volunteer whose probability is at least 1/{m} is on none of the {m} panels: "
                "{ids}"
            )
            if len(left_out) == 1
            else N_(
                "{count} volunteers whose probability is at least 1/{m} are on none of the {m} "
                "panels: {ids}"
            )
        )
        values: dict[str, object] = {"m": m, "ids": shortlist(left_out, MAX_LEFT_OUT)}
        if len(left_out) > 1:
            values["count"] = len(left_out)
        problems.append(Message(template, **values))
    lottery = reader.mapping(record, "lottery")
    bound = lottery.get("lower_bound")
    if bound is not None and (not is_number(bound) or float(bound) > change + CHANGE_TOLERANCE):
        problems.append(
            Message(
                N_("the stated lower bound {bound} is above the change {change}"),
                bound=repr(bound),
                change=f"{change:.6f}",
            )
        )
    from_distribution = _distribution_panel_count(listed, fair)
    stated_from = lottery.get("distribution_panels")
    if stated_from is not None and stated_from != from_distribution:
        problems.append(
            Message(
                N_(
                    "{count} of the {m} panels are panels of the distribution, the record states "
                    "{stated}"
                ),
                count=from_distribution,
                m=m,
                stated=repr(stated_from),
            )
        )
    if problems:
        return CheckItem("lottery", False, joined(problems, "; "))
    detail = Message(
        N_(
            "{m} feasible panels ({from_distribution} of them panels of the distribution); "
            "largest change of a person's probability {change}"
        ),
        m=m,
        from_distribution=from_distribution,
        change=f"{change:.6f}",
    )
    if bound is not None:
        detail = Message(
            N_("{detail} (no lottery of {m} panels can do better than {bound})"),
            detail=detail,
            m=m,
            bound=f"{float(bound):.6f}",
        )
    needing = sum(needs_a_panel(probability[p], m) for p in selection.pool_rows)
    if needing:
        detail = Message(
            N_(
                "{detail}; all {needing} volunteers with a probability of at least 1/{m} are "
                "on a panel"
            ),
            detail=detail,
            needing=needing,
            m=m,
        )
    else:
        detail = Message(N_("{detail}; nobody's probability reaches 1/{m}"), detail=detail, m=m)
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
