"""The panel oracle: integer programs over feasible panels, solved with CP-SAT.

One CP-SAT model (one integer count variable per unit, the quota rows, the household rows, the
panel size) is built once; every call only replaces the objective in the model's proto, so a call
costs the solve and nothing else. CP-SAT needs integer objective coefficients: float weights are
scaled so that the largest becomes 2**40 and rounded; the error this adds to a panel's value is at
most k / 2**41 of the largest weight, far below the tolerances of the column generation, and every
value we report is recomputed exactly in floating point from the panel.

Determinism: one worker, a fixed seed and no wall-clock limit inside the search (the caller's
overall time limit only ever aborts the whole computation), so equal inputs give equal panels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from sortition.cancel import solve_cp_sat
from sortition.engine.diversity_rows import add_cp_sat_limit
from sortition.engine.errors import TimeLimitReached
from sortition.units import UnitInstance

_SCALE = float(2**40)


@dataclass
class PricingResult:
    """The outcome of maximising a weighted panel value.

    value: exact (float) value of the best panel found; bound: an upper bound on the value of
    every feasible panel (CP-SAT's bound, valid even when the search stopped early);
    improving: distinct panels found during the search whose exact value exceeded the threshold,
    best last.
    """

    value: float
    panel: np.ndarray
    bound: float
    improving: list[np.ndarray] = field(default_factory=list)


class _Collector(cp_model.CpSolverSolutionCallback):
    """Keeps every solution whose exact value beats a threshold."""

    def __init__(self, weights: np.ndarray, threshold: float, stop_after: int = 0) -> None:
        super().__init__()
        self.units = len(weights)
        self.weights = weights
        self.threshold = threshold
        self.stop_after = stop_after
        self.found: list[np.ndarray] = []

    def on_solution_callback(self) -> None:
        sol = np.asarray(self.response_proto.solution, dtype=np.int64)[: self.units]
        if float(self.weights @ sol) > self.threshold:
            self.found.append(sol)
            if 0 < self.stop_after <= len(self.found):
                self.stop_search()


@dataclass
class PanelModel:
    """The CP-SAT model of an instance's panels: a count per unit, the panel size, the quota rows
    and the household rows.

    vars: the count of each unit (variable u is proto variable u); value_rows: the proto index
        of each value's quota row (None for a value nobody has, whose row is a constant, and for
        every value when the quota rows were left out); household_rows: the proto index of each
        household's row; diversity_rows: with a diversity bound, the proto index of its first
        row (its rows and variables come after every other), else None.
    """

    model: cp_model.CpModel
    vars: list[cp_model.IntVar]
    value_rows: list[int | None]
    household_rows: list[int]
    diversity_rows: int | None = None


def panel_model(inst: UnitInstance, *, quota_rows: bool = True) -> PanelModel:
    """The one CP-SAT model of feasible panels, which pricing, the face walks and ``check`` all
    use: 0 <= c_u <= capacity_u, sum c = k, each value's quota (rows in value order), at most
    one per household. Without ``quota_rows`` the quotas are left out, for a caller that bounds
    each value's count itself (the quota relaxation)."""
    model = cp_model.CpModel()
    cap = inst.capacity
    x = [model.new_int_var(0, int(cap[u]), f"c{u}") for u in range(inst.n_units)]
    model.add(sum(x) == inst.k)
    value_rows: list[int | None] = [None] * inst.n_values
    for v in range(inst.n_values if quota_rows else 0):
        members = np.flatnonzero(inst.incidence[v])
        lo, hi = int(inst.value_min[v]), int(inst.value_max[v])
        row = model.add_linear_constraint(sum(x[int(u)] for u in members), lo, hi)
        value_rows[v] = row.index if len(members) else None
    household_rows = [model.add(sum(x[u] for u in h) <= 1).index for h in inst.households]
    diversity_rows = None
    if inst.diversity is not None:
        # after every other row and variable: the walks and pricing index those by position
        diversity_rows = len(model.proto.constraints)
        add_cp_sat_limit(model, x, inst.diversity)
    return PanelModel(
        model=model,
        vars=x,
        value_rows=value_rows,
        household_rows=household_rows,
        diversity_rows=diversity_rows,
    )


def set_objective(model: cp_model.CpModel, weights: np.ndarray, top: float) -> float:
    """Make the objective: minimise -sum(round(weight * scale) * c), with the scale that takes the
    largest weight to ``top`` (CP-SAT needs integers); returns the scale."""
    proto = model.proto
    proto.clear_objective()
    obj = proto.objective
    wmax = float(np.max(np.abs(weights))) if weights.size else 0.0
    scale = top / wmax if wmax > 0 else 1.0
    ints = np.rint(weights * scale).astype(np.int64)
    nz = np.flatnonzero(ints)
    obj.vars.extend(nz.tolist())
    obj.coeffs.extend((-ints[nz]).tolist())
    return scale


class PanelOracle:
    """Answers optimisation and feasibility questions about the panels of one instance."""

    def __init__(self, inst: UnitInstance, *, seed: int = 0, deadline: float | None = None) -> None:
        self.inst = inst
        self.seed = seed
        self.deadline = deadline
        self.calls = 0
        self.seconds = 0.0
        built = panel_model(inst)
        self.model = built.model
        self.vars = built.vars

    def _solver(self) -> cp_model.CpSolver:
        s = cp_model.CpSolver()
        p = s.parameters
        p.num_workers = 1
        p.random_seed = self.seed
        # Presolve costs more than it saves on these small models (measured: 0.10 s -> 0.03 s
        # per call on ces11_k60), because the objective changes on every call.
        p.cp_model_presolve = False
        if self.inst.diversity is not None:
            # under a diversity bound CP-SAT's default search hardly finds a panel; with its
            # presolve and strongest LP (the bound's secant rows make that LP tight) it proves
            # a covering panel optimal in seconds (ces11_k60: docs/diversity.md, "Measured")
            p.cp_model_presolve = True
            p.linearization_level = 2
        if self.deadline is not None:
            remaining = self.deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeLimitReached
            p.max_time_in_seconds = remaining
        return s

    def _set_objective(self, weights: np.ndarray) -> float:
        """Minimise -sum(scaled weight * c); returns the scale used."""
        return set_objective(self.model, weights, _SCALE)

    def _run(self, solver: cp_model.CpSolver, cb: cp_model.CpSolverSolutionCallback | None) -> int:
        t0 = time.perf_counter()
        status = solve_cp_sat(solver, self.model, cb)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        past = self.deadline is not None and time.perf_counter() >= self.deadline
        if status == cp_model.UNKNOWN and past:
            raise TimeLimitReached
        return int(status)

    def maximize(
        self,
        weights: np.ndarray,
        *,
        threshold: float = np.inf,
        max_improving: int = 1,
        gap: float = 0.0,
        budget: float | None = None,
        relative_gap: float = 0.0,
        hint: np.ndarray | None = None,
        stop_after: int = 0,
    ) -> PricingResult | None:
        """Maximise ``weights @ c`` over feasible panels.

        Panels beating ``threshold`` met during the search are collected (the last
        ``max_improving`` are kept). With ``gap`` > 0 the search stops once the best panel is
        within ``gap`` of the bound (``bound`` stays valid): closing the last digits of a
        2**40-scaled objective can cost minutes and the caller needs only to know whether some
        panel beats its threshold by more than its tolerance. ``budget`` caps the search in
        CP-SAT's deterministic time (wall-clock limits would break reproducibility): the best
        panel found is returned, or None if none was found in time. ``relative_gap`` stops the
        search once the best panel is within that share of the bound. Without a budget, None means
        that no feasible panel exists. ``hint`` (counts) is where the search starts, in place of
        the model's own hint for this call; with ``stop_after`` > 0 it stops once it has met that
        many panels beating ``threshold`` (their best is returned, ``bound`` still valid).
        """
        w = np.asarray(weights, dtype=np.float64)
        scale = self._set_objective(w)
        solver = self._solver()
        if gap > 0.0:
            solver.parameters.absolute_gap_limit = gap * scale
        if budget is not None:
            solver.parameters.max_deterministic_time = budget
        if relative_gap > 0.0:
            solver.parameters.relative_gap_limit = relative_gap
        cb = _Collector(w, threshold, stop_after)
        kept = None
        if hint is not None:
            own = self.model.proto.solution_hint
            kept = (list(own.vars), list(own.values))
            self.model.clear_hints()
            for var, count in zip(self.vars, np.asarray(hint).tolist(), strict=True):
                self.model.add_hint(var, int(count))
        try:
            status = self._run(solver, cb)
        finally:
            if kept is not None:
                self.model.clear_hints()
                self.model.proto.solution_hint.vars.extend(kept[0])
                self.model.proto.solution_hint.values.extend(kept[1])
        if status == cp_model.INFEASIBLE:
            return None
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            past = self.deadline is not None and time.perf_counter() >= self.deadline
            if budget is not None and not past:
                return None
            raise TimeLimitReached
        panel = np.asarray(solver.response_proto.solution, dtype=np.int64)[: self.inst.n_units]
        value = float(w @ panel)
        # The rounded objective is within k * 0.5 / scale of the true value of any panel.
        slack = 0.5 * self.inst.k / scale
        bound = -float(solver.best_objective_bound) / scale + slack
        improving = cb.found[-max_improving:] if max_improving > 0 else []
        return PricingResult(value=value, panel=panel, bound=bound, improving=improving)


class SwapSearch:
    """Cheap pricing: improve panels by swapping one person of unit a for one of unit b.

    A swap keeps the panel size; it changes only the features on which a and b differ (each unit
    has one value per feature), so it is feasible iff for each such feature a's value may lose a
    member and b's value may gain one, and b's household (if any) has no other member on the
    panel. Starting from panels whose reduced cost is zero (the master's basic columns), every
    swap with positive gain is an improving column.
    """

    def __init__(self, inst: UnitInstance) -> None:
        self.inst = inst
        n_features = int(inst.feature_of_value.max()) + 1 if inst.n_values else 0
        vals = np.zeros((inst.n_units, n_features), dtype=np.int64)
        for v in range(inst.n_values):
            vals[inst.incidence[v], inst.feature_of_value[v]] = v
        self.values = vals
        self.household = np.full(inst.n_units, -1, dtype=np.int64)
        for h, members in enumerate(inst.households):
            self.household[list(members)] = h
        self.has_households = bool(inst.households)
        self.diversity = inst.diversity

    def _allowed(self, panel: np.ndarray) -> bool:
        """A swap keeps the quotas and households; the diversity bound must be checked."""
        return self.diversity is None or self.diversity.allows(panel)

    def _swaps(self, panel: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All feasible swaps (a, b) with positive gain g_b - g_a, best first."""
        inst = self.inst
        counts = inst.incidence.astype(np.int64) @ panel
        can_dec = counts > inst.value_min
        can_inc = counts < inst.value_max
        a_units = np.flatnonzero(panel > 0)
        b_units = np.flatnonzero(panel < inst.capacity)
        gain = g[b_units][None, :] - g[a_units][:, None]
        pos = gain > 1e-12
        if not pos.any():
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        ai, bi = np.nonzero(pos)
        va = self.values[a_units[ai]]
        vb = self.values[b_units[bi]]
        ok = ((va == vb) | (can_dec[va] & can_inc[vb])).all(axis=1)
        if self.has_households:
            hb = self.household[b_units[bi]]
            on_panel = np.zeros(len(inst.households) + 1, dtype=np.int64)
            np.add.at(
                on_panel,
                self.household[a_units],
                np.where(self.household[a_units] >= 0, panel[a_units], 0),
            )
            same = hb == self.household[a_units[ai]]
            ok &= (hb < 0) | (on_panel[hb] == 0) | same
        ai, bi = ai[ok], bi[ok]
        gains = gain[ai, bi]
        order = np.argsort(-gains, kind="stable")
        return a_units[ai[order]], b_units[bi[order]], gains[order]

    def improve(
        self,
        g: np.ndarray,
        threshold: float,
        seeds: list[np.ndarray],
        max_new: int,
        *,
        neighbours: int = 1,
        max_steps: int = 50,
    ) -> list[np.ndarray]:
        """Panels with ``g @ c > threshold`` found by steepest ascent from ``seeds``.

        From each seed the best ``neighbours`` swaps are kept as columns if improving, then the
        search continues from the best one until no swap gains.
        """
        found: list[np.ndarray] = []
        seen: set[bytes] = set()
        for seed in seeds:
            panel = seed.copy()
            value = float(g @ panel)
            for _ in range(max_steps):
                a, b, gains = self._swaps(panel, g)
                if len(gains) == 0:
                    break
                for j in range(min(neighbours, len(gains))):
                    if value + gains[j] > threshold:
                        cand = panel.copy()
                        cand[a[j]] -= 1
                        cand[b[j]] += 1
                        key = cand.tobytes()
                        if key not in seen and self._allowed(cand):
                            seen.add(key)
                            found.append(cand)
                panel[a[0]] -= 1
                panel[b[0]] += 1
                value += float(gains[0])
                if len(found) >= max_new:
                    return found
        return found
