"""The diversity of a panel across feature intersections (docs/diversity.md).

An *intersection* is a non-empty set of quota features. Its *cells* are the Cartesian product of
each feature's values present in the pool, combinations nobody has included. An intersection is
*eligible* when it has at most k cells and the pool holds on average at least 2 people per cell
(2 · cells <= n). A panel of k people would ideally put k / cells of them in each cell; its score
adds, over every eligible intersection and every cell, |panel count - k / cells| (an empty cell
counts k / cells). Lower is more diverse; 0 only if every cell of every eligible intersection
gets exactly its share.

Intersections are taken in a fixed order (fewer features first, then by the features' order in
the quota file's canonical (sorted) order), all of them, none sampled. Each person (each type) lies
in exactly one cell of every intersection, so a cell's count is a sum of type counts: the score is
a sum of absolute values of linear forms in the type counts (``DiversityMeasure.cells``), which
the optimisers linearise. Multiplying a cell's deviation by its intersection's cell count makes it
an integer, |cells · count - k|; with ``scale`` (the least common multiple of the cell counts) every
term is an integer, so ``scale`` × score is an integer and CP-SAT optimises it exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from sortition.units import DiversityLimit, UnitInstance

# What a certificate of the score names (verify re-computes it from the record's panels).
DIVERSITY_OBJECTIVE = "diversity score"

# An intersection of more features than this is never considered: with two values or more each,
# its cells would outnumber any panel (2 ** 40 > k); features with one value present add nothing
# but a copy of a smaller intersection, and are capped by the same bound.
_MOST_FEATURES = 40


@dataclass(frozen=True)
class Intersection:
    """One eligible intersection.

    features: indices of its features (in the quotas' feature order); values: for each of them,
        the quota rows of the values present in the pool, in row order; cells: the product of
        their numbers.
    """

    features: tuple[int, ...]
    values: tuple[tuple[int, ...], ...]
    cells: int


@dataclass(frozen=True)
class CellForm:
    """The score as a sum over rows: sum_r |multiplier_r · (members @ counts) - k| / multiplier_r,
    one row per cell (with members; empty cells are ``constant``)."""

    members: np.ndarray  # (R, U) bool: the units in each cell
    multiplier: np.ndarray  # (R,) int: the cells of the cell's intersection
    intersection: np.ndarray  # (R,) int: the cell's intersection
    constant: Fraction  # what the cells that no unit can fill add, whatever the panel


@dataclass(frozen=True)
class DiversityMeasure:
    """The eligible intersections of one pool and panel size, and the score's scale.

    feature_of_value: (V,) the feature of each quota row; k: the panel size; n: the pool size.
    """

    feature_of_value: np.ndarray
    k: int
    n: int
    intersections: tuple[Intersection, ...]

    @property
    def scale(self) -> int:
        """The least common multiple of the intersections' cell counts: scale × score is an
        integer for every panel."""
        return math.lcm(*(i.cells for i in self.intersections)) if self.intersections else 1

    def cell_indices(self, values: np.ndarray) -> np.ndarray:
        """(I, m) the cell of each of m people (rows of quota row indices, one per feature) in
        every intersection; -1 never occurs for people of the pool."""
        values = np.asarray(values, dtype=np.int64)
        position = np.full(len(self.feature_of_value), -1, dtype=np.int64)
        for intersection in self.intersections:
            for present in intersection.values:
                for p, v in enumerate(present):
                    position[v] = p
        out = np.zeros((len(self.intersections), values.shape[0]), dtype=np.int64)
        for i, intersection in enumerate(self.intersections):
            for feature, present in zip(intersection.features, intersection.values, strict=True):
                out[i] = out[i] * len(present) + position[values[:, feature]]
        return out

    def exact_score(self, values: np.ndarray, weights: np.ndarray | None = None) -> Fraction:
        """The score of a panel given as its members' quota rows (m, F), each member counted
        ``weights`` times (default once): the definition, in exact arithmetic."""
        values = np.asarray(values, dtype=np.int64).reshape(-1, len(_features(self)))
        w = np.ones(values.shape[0], dtype=np.int64) if weights is None else weights
        cells = self.cell_indices(values)
        total = Fraction(0)
        for i, intersection in enumerate(self.intersections):
            c = intersection.cells
            counts = np.bincount(cells[i], weights=w, minlength=c).astype(np.int64)
            deviation = int(np.abs(c * counts - self.k).sum())
            total += Fraction(deviation, c)
        return total

    def score(self, values: np.ndarray, weights: np.ndarray | None = None) -> float:
        """``exact_score`` as a float."""
        return float(self.exact_score(values, weights))

    def cells(self, inst: UnitInstance) -> CellForm:
        """The score as a sum of absolute values of linear forms in ``inst``'s unit counts."""
        unit_values = unit_value_rows(inst)
        cell_of_unit = self.cell_indices(unit_values)
        rows: list[np.ndarray] = []
        multiplier: list[int] = []
        owner: list[int] = []
        constant = Fraction(0)
        for i, intersection in enumerate(self.intersections):
            c = intersection.cells
            filled = np.zeros(c, dtype=bool)
            filled[cell_of_unit[i]] = True
            constant += Fraction(self.k * int((~filled).sum()), c)
            for cell in np.flatnonzero(filled):
                rows.append(cell_of_unit[i] == cell)
                multiplier.append(c)
                owner.append(i)
        members = np.array(rows, dtype=bool).reshape(len(rows), inst.n_units)
        return CellForm(
            members=members,
            multiplier=np.array(multiplier, dtype=np.int64),
            intersection=np.array(owner, dtype=np.int64),
            constant=constant,
        )

    def exact_score_of_counts(self, form: CellForm, counts: np.ndarray) -> Fraction:
        """The score of a count vector over units, from the linear form (equal to
        ``exact_score`` of its people: tests/test_diversity.py)."""
        cell_counts = form.members.astype(np.int64) @ np.asarray(counts, dtype=np.int64)
        total = form.constant
        for deviation, c in zip(
            np.abs(form.multiplier * cell_counts - self.k).tolist(),
            form.multiplier.tolist(),
            strict=True,
        ):
            total += Fraction(int(deviation), int(c))
        return total


def _features(measure: DiversityMeasure) -> range:
    return range(int(measure.feature_of_value.max()) + 1 if measure.feature_of_value.size else 0)


def unit_value_rows(inst: UnitInstance) -> np.ndarray:
    """(U, F) each unit's quota row of every feature."""
    n_features = int(inst.feature_of_value.max()) + 1 if inst.n_values else 0
    out = np.zeros((inst.n_units, n_features), dtype=np.int64)
    for v in range(inst.n_values):
        out[inst.incidence[v], int(inst.feature_of_value[v])] = v
    return out


def measure_of(
    values: np.ndarray, feature_of_value: np.ndarray, k: int, weights: np.ndarray | None = None
) -> DiversityMeasure:
    """The measure of a pool given as its people's quota rows (n, F) (or its units' rows, each
    counted ``weights`` times): which values are present, which intersections are eligible."""
    values = np.asarray(values, dtype=np.int64)
    fov = np.asarray(feature_of_value, dtype=np.int64)
    w = np.ones(values.shape[0], dtype=np.int64) if weights is None else np.asarray(weights)
    n = int(w.sum())
    n_features = values.shape[1] if values.ndim == 2 else 0
    counts = np.bincount(values.ravel(), weights=np.repeat(w, n_features), minlength=len(fov))
    present = [
        tuple(int(v) for v in np.flatnonzero((fov == f) & (counts > 0))) for f in range(n_features)
    ]
    found: list[Intersection] = []

    def extend(chosen: tuple[int, ...], cells: int, start: int) -> None:
        for f in range(start, n_features):
            size = cells * len(present[f])
            # both bounds only tighten as features are added: prune the whole branch
            if size == 0 or size > k or 2 * size > n or len(chosen) >= _MOST_FEATURES:
                continue
            features = (*chosen, f)
            found.append(Intersection(features, tuple(present[g] for g in features), size))
            extend(features, size, f + 1)

    extend((), 1, 0)
    found.sort(key=lambda i: (len(i.features), i.features))
    return DiversityMeasure(feature_of_value=fov, k=int(k), n=n, intersections=tuple(found))


def unit_measure(inst: UnitInstance) -> DiversityMeasure:
    """The measure of a unit instance's pool (each unit counted as many times as its people)."""
    return measure_of(unit_value_rows(inst), inst.feature_of_value, inst.k, inst.capacity)


def diversity_limit(
    inst: UnitInstance, bound: Fraction, panel: np.ndarray | None = None
) -> DiversityLimit:
    """The rule "score <= ``bound``" over ``inst``'s unit counts (``units.DiversityLimit``);
    ``panel`` meets it."""
    measure = unit_measure(inst)
    form = measure.cells(inst)
    scale = measure.scale
    room = (bound - form.constant) * scale
    return DiversityLimit(
        members=form.members,
        multiplier=form.multiplier,
        k=measure.k,
        scale=scale,
        limit=room.numerator // room.denominator,
        panel=panel,
    )
