"""Unit instances: the pure-math input of the fair-distribution engine.

A *unit* is either a type (a group of interchangeable people with the same feature vector, none of
them sharing a household with anyone else in the pool) or a single person. A panel is a count vector
over units; the person-level probability of a unit is E[c_u] / capacity_u because the members of a
type are drawn uniformly once the type's count is fixed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from sortition.model import Instance


@dataclass(frozen=True)
class DiversityLimit:
    """A bound on a panel's diversity score (docs/diversity.md), as one more rule of the quota
    polytope: sum_r (scale / multiplier_r) · |multiplier_r · (members_r @ counts) - k| <= limit.

    members: (R, U) bool, the units in each cell that some unit fills; multiplier: (R,) the cells
    of the cell's intersection; scale: their least common multiple; limit: scale × (the score's
    bound - what the empty cells add), rounded down (every panel's left side is a whole number);
    panel: a panel known to meet it (the most diverse one found), which the solvers start from.
    """

    members: np.ndarray
    multiplier: np.ndarray
    k: int
    scale: int
    limit: int
    panel: np.ndarray | None = None

    def scaled(self, counts: np.ndarray) -> int:
        """The left side for a count vector (a whole number for whole counts)."""
        cells = self.members.astype(np.int64) @ np.asarray(counts, dtype=np.int64)
        return int(self.deviations(cells).sum())

    def deviations(self, cells: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Each cell's term of the left side, (scale / multiplier) · |multiplier · count - k|,
        for the cells ``rows`` holding ``cells`` members (any shape, broadcast with ``rows``)."""
        multiplier = self.multiplier[rows]
        return (self.scale // multiplier) * np.abs(multiplier * cells - self.k)

    def allows(self, counts: np.ndarray) -> bool:
        return self.scaled(counts) <= self.limit


@dataclass(frozen=True)
class UnitInstance:
    """A panel-selection problem over units.

    capacity: (U,) int >= 1, number of people in the unit.
    incidence: (V, U) bool, unit u has feature value v (exactly one value per feature).
    feature_of_value: (V,) int, the feature of each value row.
    value_min / value_max: (V,) int quotas.
    households: groups of capacity-1 units of which at most one may be on a panel.
    k: panel size.
    diversity: with ``--diversity-within``, the bound every panel's diversity score must meet.
    """

    capacity: np.ndarray
    incidence: np.ndarray
    feature_of_value: np.ndarray
    value_min: np.ndarray
    value_max: np.ndarray
    households: tuple[tuple[int, ...], ...]
    k: int
    diversity: DiversityLimit | None = None

    def __post_init__(self) -> None:
        cap = np.asarray(self.capacity, dtype=np.int64)
        inc = np.asarray(self.incidence, dtype=bool)
        if cap.ndim != 1 or (cap < 1).any():
            raise ValueError("capacity must be a 1-d array of integers >= 1")
        if inc.ndim != 2 or inc.shape[1] != cap.shape[0]:
            raise ValueError("incidence must have shape (V, U)")
        nv = inc.shape[0]
        for name in ("feature_of_value", "value_min", "value_max"):
            arr = np.asarray(getattr(self, name))
            if arr.shape != (nv,):
                raise ValueError(f"{name} must have shape ({nv},)")
        for h in self.households:
            for u in h:
                if cap[u] != 1:
                    raise ValueError("household members must be capacity-1 units")
        if self.k < 0:
            raise ValueError("k must be >= 0")
        object.__setattr__(self, "capacity", cap)
        object.__setattr__(self, "incidence", inc)
        fov = np.asarray(self.feature_of_value, dtype=np.int64)
        object.__setattr__(self, "feature_of_value", fov)
        object.__setattr__(self, "value_min", np.asarray(self.value_min, dtype=np.int64))
        object.__setattr__(self, "value_max", np.asarray(self.value_max, dtype=np.int64))

    @property
    def n_units(self) -> int:
        return int(self.capacity.shape[0])

    @property
    def n_values(self) -> int:
        return int(self.incidence.shape[0])

    @property
    def n_people(self) -> int:
        return int(self.capacity.sum())

    def is_feasible_panel(self, counts: np.ndarray) -> bool:
        """Check every rule for a count vector."""
        c = np.asarray(counts, dtype=np.int64)
        if c.shape != self.capacity.shape or (c < 0).any() or (c > self.capacity).any():
            return False
        if int(c.sum()) != self.k:
            return False
        per_value = self.incidence.astype(np.int64) @ c
        if (per_value < self.value_min).any() or (per_value > self.value_max).any():
            return False
        if self.diversity is not None and not self.diversity.allows(c):
            return False
        return all(int(c[list(h)].sum()) <= 1 for h in self.households)


# A certificate whose gap is at most this says the distribution is optimal (docs/algorithms.md).
CERTIFIED_GAP = 1e-6


@dataclass(frozen=True)
class Certificate:
    """How close a fair distribution is to its objective's optimum (docs/algorithms.md).

    objective: what is optimised, in words a record keeps ("smallest probability", ...).
    sense: "max" (bound is an upper bound on the optimum) or "min" (a lower bound).
    bound: the bound, from the LP relaxation over the quota polytope or from column generation's
        duals; value: the objective of the distribution itself.
    gap: how far the value may be from the optimum, as a share of the bound (NASH: the log of
        the ratio of the optimal and the reached geometric mean probability).
    levels: LEXIMIN only, the bound of every level, lowest first.
    """

    objective: str
    sense: Literal["max", "min"]
    bound: float
    value: float
    gap: float
    levels: tuple[float, ...] = ()

    @property
    def certified(self) -> bool:
        """The value is the optimum, up to CERTIFIED_GAP."""
        return self.gap <= CERTIFIED_GAP

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "objective": self.objective,
            "sense": self.sense,
            "bound": self.bound,
            "value": self.value,
            "gap": self.gap,
        }
        if self.levels:
            record["levels"] = list(self.levels)
        return record


def relative_gap(bound: float, value: float, sense: Literal["max", "min"]) -> float:
    """(bound - value) / |bound| for a maximum, (value - bound) / |bound| for a minimum, never
    below 0 (round-off can put the value a hair past the bound)."""
    difference = bound - value if sense == "max" else value - bound
    return max(0.0, difference) / max(abs(bound), 1e-300)


def count_dtype(largest: int) -> np.dtype[Any]:
    """The smallest of int8, int16, int32 and int64 that holds counts from 0 to ``largest``."""
    for dtype in (np.int8, np.int16, np.int32):
        if largest <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def compact_counts(panels: np.ndarray) -> np.ndarray:
    """Count vectors (non-negative) in ``count_dtype`` of their largest count: the same array when
    it already is, else a copy. A panel of k = 150 people has no count above 127 on the types path
    (a count is at most the smaller of k and the unit's size), so a realistic7 n = 1,000,000
    distribution (29,645 panels × 40,957 types) takes 1.2 GB in int8 instead of 9.7 GB in int64.
    Arithmetic in the dtype itself can overflow (a bool matrix @ int8 is int8): sums over a
    panel's units go through int64 or float64 (``UnitInstance.is_feasible_panel``, the
    mixture)."""
    panels = np.asarray(panels)
    if panels.dtype.kind not in "iu":
        raise ValueError("panels must hold integer counts")
    largest = int(panels.max()) if panels.size else 0
    if panels.size and int(panels.min()) < 0:
        raise ValueError("panel counts must be non-negative")
    return np.asarray(panels, dtype=count_dtype(largest))


@dataclass(frozen=True)
class Distribution:
    """A lottery over panels (count vectors over units) and its person-level marginals, and the
    certificate of its optimality (None: the algorithm gives none).

    panels: (P, U) counts in the smallest integer dtype that holds the largest
    (``compact_counts``, applied here to whatever a constructor passes); a consumer widens a row
    at a time where it needs to, never the whole matrix.
    """

    panels: np.ndarray
    weights: np.ndarray
    unit_probability: np.ndarray
    algorithm: str
    stats: dict[str, float | int | str] = field(default_factory=dict)
    never_selectable: tuple[int, ...] = ()
    certificate: Certificate | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "panels", compact_counts(self.panels))


def from_people(
    values: np.ndarray,
    value_min: np.ndarray,
    value_max: np.ndarray,
    feature_of_value: np.ndarray,
    households: np.ndarray | None,
    k: int,
    by_type: bool,
) -> tuple[UnitInstance, np.ndarray]:
    """Build a unit instance from people.

    values: (n, F) int, for each person and feature the global index of the person's value.
    households: (n,) int household id per person, or None (everyone alone).
    by_type: group people alone in their household with equal feature vectors into one type unit
    (types ordered by their first member); people sharing a household always get their own unit.
    Returns the instance and, for each person, the index of their unit.
    """
    vals = np.asarray(values, dtype=np.int64)
    if vals.ndim != 2:
        raise ValueError("values must have shape (n, F)")
    n = vals.shape[0]
    nv = int(np.asarray(value_min).shape[0])
    if n and (vals.min() < 0 or vals.max() >= nv):
        raise ValueError("value index out of range")

    shared = np.zeros(n, dtype=bool)
    hh_groups: dict[int, list[int]] = {}
    if households is not None:
        hh = np.asarray(households, dtype=np.int64)
        if hh.shape != (n,):
            raise ValueError("households must have shape (n,)")
        for i in range(n):
            hh_groups.setdefault(int(hh[i]), []).append(i)
        for members in hh_groups.values():
            if len(members) > 1:
                shared[members] = True

    # Each unit's representative is the person who opens it, in person order: someone who
    # shares a household or is not grouped by type opens their own; otherwise the first person
    # of each feature vector opens its type, which the rest join (numpy: at a million people a
    # loop over them took 24 s of CPU).
    alone = ~shared if by_type else np.zeros(n, dtype=bool)
    first_of = np.arange(n, dtype=np.int64)  # the person who opens each person's unit
    grouped = np.flatnonzero(alone)
    if len(grouped):
        rows = vals[grouped]
        if vals.shape[1] * math.log2(max(nv, 2)) < 62:  # a whole number per feature vector
            rows = rows @ (nv ** np.arange(vals.shape[1], dtype=np.int64))
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        first_of[grouped] = grouped[first][inverse.reshape(-1)]
    unit_rep = np.flatnonzero(first_of == np.arange(n))  # the openers, in person order
    unit_of_person = np.searchsorted(unit_rep, first_of).astype(np.int64)
    n_units = len(unit_rep)
    capacity = np.bincount(unit_of_person, minlength=n_units)
    incidence = np.zeros((nv, n_units), dtype=bool)
    if n_units:
        incidence[vals[unit_rep].ravel(), np.repeat(np.arange(n_units), vals.shape[1])] = True

    groups: list[tuple[int, ...]] = []
    # Household groups in order of their first member (dict preserves insertion order).
    for members in hh_groups.values():
        if len(members) > 1:
            groups.append(tuple(int(unit_of_person[i]) for i in members))
    inst = UnitInstance(
        capacity=np.asarray(capacity, dtype=np.int64),
        incidence=incidence,
        feature_of_value=np.asarray(feature_of_value, dtype=np.int64),
        value_min=np.asarray(value_min, dtype=np.int64),
        value_max=np.asarray(value_max, dtype=np.int64),
        households=tuple(groups),
        k=int(k),
    )
    return inst, unit_of_person


def unit_instance(instance: Instance, by_type: bool = True) -> tuple[UnitInstance, np.ndarray]:
    """The instance's units (``from_people`` on its pool and quotas) and each person's unit."""
    quotas = instance.quotas
    return from_people(
        instance.pool.values,
        quotas.mins,
        quotas.maxs,
        quotas.feature_of_value,
        instance.pool.households,
        instance.k,
        by_type=by_type,
    )


def members_of_units(unit_of_person: np.ndarray, n_units: int) -> tuple[np.ndarray, ...]:
    """Each unit's people (person indices, ascending: id order on a canonical pool)."""
    order = np.argsort(unit_of_person, kind="stable")
    bounds = np.searchsorted(unit_of_person[order], np.arange(n_units + 1))
    return tuple(order[bounds[u] : bounds[u + 1]] for u in range(n_units))
