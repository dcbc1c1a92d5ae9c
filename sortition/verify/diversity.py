"""The diversity checks of a selection record (docs/diversity.md): the score of every panel of the
distribution and of the drawn panel, re-computed from the record's own pool and quotas."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from sortition.engine.diversity import DiversityMeasure, measure_of
from sortition.errors import N_, Message
from sortition.verify.items import CheckItem, joined
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
            Message(
                N_("the drawn panel scores {score}, the certificate states {stated}"),
                score=f"{float(score):.9g}",
                stated=repr(stated),
            ),
        )
    return CheckItem(
        "diversity",
        True,
        Message(
            N_(
                "the drawn panel scores {score} over all {intersections} eligible intersections, "
                "the score the certificate states"
            ),
            score=f"{float(score):.9g}",
            intersections=len(measure.intersections),
        ),
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
        detail = Message(N_("{keys} must be numbers"), keys=", ".join(_KEYS))
        return CheckItem("diversity bound", False, detail)
    within, best, limit = (float(numbers[key] or 0.0) for key in _KEYS)
    parameters = selection.record.get("parameters")
    problems: list[str] = []
    if not isinstance(parameters, dict) or parameters.get("diversity_within") != within:
        problems.append(
            Message(
                N_("parameters.diversity_within is not the distribution's {within}"),
                within=repr(within),
            )
        )
    expected = float(Fraction(best) * (1 + Fraction(repr(within))))
    if abs(expected - limit) > SCORE_TOLERANCE * max(1.0, limit):
        problems.append(
            Message(
                N_("limit {limit}, (1 + {within}) × best {best} is {expected}"),
                limit=repr(limit),
                within=repr(within),
                best=repr(best),
                expected=repr(expected),
            )
        )
    scores = [float(score) for score in panel_scores(selection, fair)]
    over = [str(i + 1) for i, score in enumerate(scores) if score > limit + SCORE_TOLERANCE]
    if over:
        problems.append(
            Message(
                N_("panels {panels} score above the limit {limit}"),
                panels=", ".join(over[:10]),
                limit=f"{limit:.9g}",
            )
        )
    drawn = float(drawn_score(selection)) if selection.panel else None
    if drawn is not None and drawn > limit + SCORE_TOLERANCE:
        problems.append(
            Message(
                N_("the drawn panel scores {score}, above the limit {limit}"),
                score=f"{drawn:.9g}",
                limit=f"{limit:.9g}",
            )
        )
    if problems:
        return CheckItem("diversity bound", False, joined(problems, "; "))
    values = {
        "panels": len(scores),
        "limit": f"{limit:.9g}",
        "within": f"{within:g}",
        "best": f"{best:.9g}",
        "highest": f"{max(scores):.9g}",
    }
    if drawn is None:
        detail = Message(
            N_(
                "all {panels} panels score at most {limit} = (1 + {within}) × {best} (highest "
                "{highest}); the best score is re-derived by --recompute"
            ),
            **values,
        )
    else:
        detail = Message(
            N_(
                "all {panels} panels score at most {limit} = (1 + {within}) × {best} (highest "
                "{highest}, the drawn panel {drawn}); the best score is re-derived by --recompute"
            ),
            drawn=f"{drawn:.9g}",
            **values,
        )
    return CheckItem("diversity bound", True, detail)


_KEYS = ("within", "best", "limit")
