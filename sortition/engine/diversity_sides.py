"""The diversity bound made linear around a point: LEXIMIN under ``--diversity-within``
(docs/diversity.md, "LEXIMIN under the bound").

A cell's term of the score, |cells · count - k| / cells, is convex and piecewise linear in the
cell's count, and over whole counts it has three pieces: falling up to n0 = floor(k / cells),
the secant from n0 to n0 + 1, rising from n0 + 1 (two pieces when cells divides k). Holding each
cell's count on the piece where a point's count lies (one more quota row per cell: at most n0,
between n0 and n0 + 1, or at least n0 + 1) makes the score linear on what is left of the quota
polytope: one row, weights @ counts + offset <= limit (``units.DiversityLimit.weights``). Every
panel of that smaller polytope meets the bound exactly when it meets that row; the point lies in
it whenever it meets the bound with the secants (as every point of the LP relaxation under the
bound does).

Why LEXIMIN needs it: the relaxation's LEXIMIN vector under the bound is an upper bound on any
lottery of panels within the bound, and a lottery that meets it is LEXIMIN. Its point sits close
to the bound (gss_k150 at 0.1: a score of 0.968 of the limit), so a lottery meeting it must use
panels whose cells are nearly all on the point's side of their shares: column generation over
every panel within the bound found them slowly, and level by level never ended. On the sided
polytope the bound is one linear row with room to spare at the point, so the engine's face walks
(``walks.face_walk``), which decompose a point into panels of the polytope's faces, apply as they
do without the bound.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sortition.engine.diversity import unit_measure
from sortition.units import UnitInstance

# A point's cell count this close to a breakpoint of its term (a whole count) lies on both
# pieces there; the piece is then the one below the breakpoint (LP round-off).
_ON_BREAKPOINT = 1e-7


def sided_instance(inst: UnitInstance, counts: np.ndarray) -> UnitInstance:
    """``inst`` (with a diversity bound) with each cell of the bound held on the piece of its
    term where ``counts`` (a point, in unit counts) puts it, and the bound as its one linear row
    there (see the module). The cells become value rows of one derived feature per
    intersection (``UnitInstance.derived_from``)."""
    limit = inst.diversity
    if limit is None:
        raise ValueError("sided_instance needs an instance with a diversity bound")
    form = unit_measure(inst).cells(inst)
    k = inst.k
    cell_counts = limit.members.astype(np.float64) @ np.asarray(counts, dtype=np.float64)
    rows = len(limit.multiplier)
    low = np.zeros(rows, dtype=np.int64)
    high = np.full(rows, k, dtype=np.int64)
    weight = np.zeros(rows, dtype=np.int64)
    constant = 0
    for r, (cells, count) in enumerate(
        zip(limit.multiplier.tolist(), cell_counts.tolist(), strict=True)
    ):
        factor = limit.scale // cells
        n0 = k // cells
        # the pieces: falling (slope -cells), the secant (when cells does not divide k), rising
        if count <= n0 + _ON_BREAKPOINT:
            high[r] = n0
            weight[r], term = -factor * cells, factor * k
        elif k % cells == 0 or count >= n0 + 1 + _ON_BREAKPOINT:
            low[r] = n0 if k % cells == 0 else n0 + 1
            weight[r], term = factor * cells, -factor * k
        else:
            low[r], high[r] = n0, n0 + 1
            d0, d1 = abs(cells * n0 - k), abs(cells * (n0 + 1) - k)
            weight[r], term = factor * (d1 - d0), factor * (d0 - (d1 - d0) * n0)
        constant += term
    weights = limit.members.astype(np.int64).T @ weight
    features = int(inst.feature_of_value.max()) + 1 if inst.n_values else 0
    first = features if inst.derived_from is None else inst.derived_from
    return replace(
        inst,
        incidence=np.vstack([inst.incidence, limit.members]),
        feature_of_value=np.concatenate([inst.feature_of_value, features + form.intersection]),
        value_min=np.concatenate([inst.value_min, low]),
        value_max=np.concatenate([inst.value_max, high]),
        diversity=replace(limit, panel=None, weights=weights, offset=int(constant)),
        derived_from=first,
    )
