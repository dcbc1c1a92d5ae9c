"""The diversity checks of a selection record (docs/diversity.md): the score of every panel of the
distribution and of the drawn panel, re-computed from the record's own pool and quotas."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from sortition.engine.diversity import DiversityMeasure, measure_of
from sortition.verify.items import CheckItem
from sortition.verify.parts import FairParts, SelectionParts

# Recorded scores are floats of exact fractions; another implementation may round differently.
SCORE_TOLERANCE = 1e-9


def record_measure(selection: SelectionParts) -> DiversityMeasure:
    """The measure of the record's pool and k."""
    instance = selection.instance
    return measure_of(instance.pool.values, instance.quotas.feature_of_value, instance.k)


def panel_scores(selection: SelectionParts, fair: FairParts) -> list[Fraction]:
    """The score of each panel of the distribution (a types-path unit's count goes to its first
    member's values, which every member shares: ``panels_item`` checks that)."""
    measure = record_measure(selection)
    pool = selection.instance.pool
    position = {person: i for i, person in enumerate(pool.ids)}
    scores = []
    for index in range(len(fair.weights)):
        if fair.path == "people":
            people = [position[p] for p in fair.members[index] if p in position]
            scores.append(measure.exact_score(pool.values[people]))
            continue
        rows = [position.get(fair.units[unit][0], -1) for unit, _ in fair.counts[index]]
        counts = np.array([count for _, count in fair.counts[index]], dtype=np.int64)
        known = np.array([row >= 0 for row in rows], dtype=bool)
        rows_known = np.array(rows, dtype=np.int64)[known]
        scores.append(measure.exact_score(pool.values[rows_known], counts[known]))
    return scores


def drawn_score(selection: SelectionParts) -> Fraction:
    """The score of the record's drawn panel."""
    pool = selection.instance.pool
    position = {person: i for i, person in enumerate(pool.ids)}
    people = [position[p] for p in selection.panel if p in position]
    return record_measure(selection).exact_score(pool.values[people])


def drawn_diversity_item(selection: SelectionParts, fair: FairParts) -> CheckItem:
    """DIVERSIMAX: the drawn panel's score, re-computed, is the score its certificate states."""
    certificate = fair.document.get("certificate")
    stated = certificate.get("value") if isinstance(certificate, dict) else None
    score = drawn_score(selection)
    measure = record_measure(selection)
    if not isinstance(stated, int | float) or abs(float(score) - float(stated)) > SCORE_TOLERANCE:
        return CheckItem(
            "diversity",
            False,
            f"the drawn panel scores {float(score):.9g}, the certificate states {stated!r}",
        )
    return CheckItem(
        "diversity",
        True,
        f"the drawn panel scores {float(score):.9g} over all {len(measure.intersections)} "
        "eligible intersections, the score the certificate states",
    )


def bound_item(selection: SelectionParts, fair: FairParts) -> CheckItem | None:
    """Version 6, ``--diversity-within``: the stated limit is (1 + within) × the stated best
    score, and every panel of the distribution (and the drawn panel, in a record) scores at most
    the limit, re-computed from the record's pool. None when the record has no bound."""
    stated = fair.document.get("diversity")
    if stated is None:
        return None
    numbers = {key: stated.get(key) if isinstance(stated, dict) else None for key in _KEYS}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers.values()):
        return CheckItem("diversity bound", False, f"{', '.join(_KEYS)} must be numbers")
    within, best, limit = (float(numbers[key] or 0.0) for key in _KEYS)
    parameters = selection.record.get("parameters")
    problems = []
    if not isinstance(parameters, dict) or parameters.get("diversity_within") != within:
        problems.append(f"parameters.diversity_within is not the distribution's {within!r}")
    expected = float(Fraction(best) * (1 + Fraction(repr(within))))
    if abs(expected - limit) > SCORE_TOLERANCE * max(1.0, limit):
        problems.append(f"limit {limit!r}, (1 + {within!r}) × best {best!r} is {expected!r}")
    scores = [float(score) for score in panel_scores(selection, fair)]
    over = [str(i + 1) for i, score in enumerate(scores) if score > limit + SCORE_TOLERANCE]
    if over:
        problems.append(f"panels {', '.join(over[:10])} score above the limit {limit:.9g}")
    drawn = float(drawn_score(selection)) if selection.panel else None
    if drawn is not None and drawn > limit + SCORE_TOLERANCE:
        problems.append(f"the drawn panel scores {drawn:.9g}, above the limit {limit:.9g}")
    if problems:
        return CheckItem("diversity bound", False, "; ".join(problems))
    shown = "" if drawn is None else f", the drawn panel {drawn:.9g}"
    return CheckItem(
        "diversity bound",
        True,
        f"all {len(scores)} panels score at most {limit:.9g} = (1 + {within:g}) × {best:.9g} "
        f"(highest {max(scores):.9g}{shown}); the best score is re-derived by --recompute",
    )


_KEYS = ("within", "best", "limit")
