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
