"""The engine's half of ``check``: is there a feasible panel, and what is the smallest change of
the quotas that allows one? (``sortition.selection.feasibility`` turns the answers into reasons
and advice.)

Both questions are CP-SAT models over the instance's units (``sortition.units``: people alone in
their household with the same feature vector are one type, people who share a household one
unit each), built on the same panel model as pricing and the face walks
(``pricing.panel_model``). The relaxation replaces each quota row by variable bounds
low_v <= count_v <= high_v, with min_flex <= low_v <= min and max <= high_v <= max_flex, and
minimises the total change; then, keeping that total, it changes as few bounds as it can.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from sortition.cancel import solve_cp_sat
from sortition.engine.pricing import PanelModel, panel_model
from sortition.errors import N_, Message
from sortition.model import Instance
from sortition.units import UnitInstance, members_of_units, unit_instance

DEFAULT_TIME_LIMIT = 60.0


@dataclass(frozen=True)
class QuotaChange:
    value_index: int
    feature: str
    value: str
    bound: str  # "min" or "max"
    old: int
    new: int

    def advice(self) -> str:
        """ "gender female: raise min from 4 to 5" (a ``Message``: an entry layer translates it)."""
        template = (
            N_("{feature} {value}: lower {bound} from {old} to {new}")
            if self.new < self.old
            else N_("{feature} {value}: raise {bound} from {old} to {new}")
        )
        return Message(
            template,
            feature=self.feature,
            value=self.value,
            bound=self.bound,
            old=self.old,
            new=self.new,
        )


@dataclass(frozen=True)
class Relaxation:
    """The smallest total change of mins and maxes (within min_flex/max_flex) that is feasible."""

    changes: tuple[QuotaChange, ...]
    total_change: int
    optimal: bool


def _solve(model: cp_model.CpModel, time_limit: float) -> tuple[cp_model.CpSolver, int]:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = time_limit
    # The LP relaxation is what proves these models optimal quickly (0.2 s instead of minutes
    # on ces11_k60); one worker keeps the answer deterministic.
    solver.parameters.linearization_level = 2
    status = solve_cp_sat(solver, model)
    return solver, status


def find_panel(instance: Instance, time_limit: float = DEFAULT_TIME_LIMIT) -> np.ndarray | None:
    """A feasible panel (canonical person indices, sorted), or None when none exists.

    Raises TimeoutError when the time limit passes before CP-SAT decides.
    """
    units, unit_of_person = unit_instance(instance)
    built = panel_model(units)
    solver, status = _solve(built.model, time_limit)
    if status == cp_model.INFEASIBLE or status == cp_model.MODEL_INVALID:
        return None
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise TimeoutError("CP-SAT could not decide feasibility within the time limit")
    members = members_of_units(unit_of_person, units.n_units)
    chosen: list[int] = []
    for u, var in enumerate(built.vars):
        chosen.extend(int(p) for p in members[u][: solver.value(var)])
    return np.array(sorted(chosen), dtype=np.int64)


class QuotaRelaxation:
    """The panel model with each quota's bounds as variables, minimising their total change."""

    def __init__(self, instance: Instance, units: UnitInstance) -> None:
        self.quotas = quotas = instance.quotas
        built: PanelModel = panel_model(units, quota_rows=False)
        self.model = model = built.model
        self.low: list[cp_model.IntVar] = []
        self.high: list[cp_model.IntVar] = []
        k = instance.k
        for v, quota in enumerate(quotas.rows):
            count = sum(built.vars[int(u)] for u in np.flatnonzero(units.incidence[v]))
            low_floor = 0 if quota.min_flex is None else quota.min_flex
            high_ceiling = max(quota.max, k) if quota.max_flex is None else quota.max_flex
            low = model.new_int_var(low_floor, quota.min, f"min{v}")
            high = model.new_int_var(quota.max, high_ceiling, f"max{v}")
            self.low.append(low)
            self.high.append(high)
            model.add(count >= low)
            model.add(count <= high)
        self.total_change = sum(
            q.min - lo for q, lo in zip(quotas.rows, self.low, strict=True)
        ) + sum(hi - q.max for q, hi in zip(quotas.rows, self.high, strict=True))
        model.minimize(self.total_change)

    def prefer_fewest_changes(self, total: int) -> None:
        """Second phase: keep the minimal total change, change as few quota bounds as possible."""
        self.model.add(self.total_change == total)
        changed = []
        for quota, low, high in zip(self.quotas.rows, self.low, self.high, strict=True):
            for bound, var in ((quota.min, low), (quota.max, high)):
                flag = self.model.new_bool_var("")
                self.model.add(var == bound).only_enforce_if(flag.negated())
                changed.append(flag)
        self.model.minimize(sum(changed))

    def solve(self, time_limit: float) -> tuple[cp_model.CpSolver, int]:
        return _solve(self.model, time_limit)


def relax_quotas(instance: Instance, time_limit: float = DEFAULT_TIME_LIMIT) -> Relaxation | None:
    """The minimal relaxation, or None when no quotas within the flex bounds allow a panel.

    ``time_limit`` bounds both solves together (the smallest total change, then the fewest
    bounds changed). Raises TimeoutError when it passes before any relaxation is found or shown
    impossible.
    """
    started = time.perf_counter()
    units, _ = unit_instance(instance)
    model = QuotaRelaxation(instance, units)
    solver, status = model.solve(time_limit)
    if status == cp_model.UNKNOWN:
        raise TimeoutError("CP-SAT found no relaxation within the time limit")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    optimal = status == cp_model.OPTIMAL
    remaining = time_limit - (time.perf_counter() - started)
    if optimal and remaining > 0:
        model.prefer_fewest_changes(round(solver.objective_value))
        second, second_status = model.solve(remaining)
        if second_status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            solver = second
    changes: list[QuotaChange] = []
    for v, quota in enumerate(instance.quotas.rows):
        low, high = solver.value(model.low[v]), solver.value(model.high[v])
        if low != quota.min:
            changes.append(QuotaChange(v, quota.feature, quota.value, "min", quota.min, low))
        if high != quota.max:
            changes.append(QuotaChange(v, quota.feature, quota.value, "max", quota.max, high))
    total = sum(abs(c.new - c.old) for c in changes)
    return Relaxation(tuple(changes), total, optimal)
