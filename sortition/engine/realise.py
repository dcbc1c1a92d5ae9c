"""Realising a target point by panels: a master LP that maximises z subject to every unit's
probability being at least z times its target, fed by face walks towards the point first and by
pricing after them (LEXIMIN's relaxed vector, GOLDILOCKS's relaxed optimum)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from sortition.engine.columns import ColumnGeneration, Walks
from sortition.engine.master import MasterLP
from sortition.progress import TargetRound

# The master realising the vector is rebuilt from its recently used columns once it has this
# many (benchmarks/README.md, "The engine's levers").
_PRUNE_ABOVE = 3000
# "Recently used": with positive weight in one of this many last rounds.
_RECENT_ROUNDS = 5

# A solve after more new columns than this (a walk's panels) presolves and scales, from scratch:
# realistic7 n = 10,000, 958 columns and 6,032 rows: 9.9 s of CPU instead of about 90 s warm
# started without presolve and scaling. Only with more active units than _PRESOLVE_ROWS (on the
# shared instances the warm start costs little and their outputs stay as they were).
_PRESOLVE_ABOVE = 200
_PRESOLVE_ROWS = 2000

# The realised distribution counts as the target (the relaxation's point) once every unit has this
# share of it: z >= TARGET_MET (for NASH a loss of at most 1e-7 in the mean log-probability).
TARGET_MET = 1.0 - 1e-7


@dataclass
class Realised:
    """The outcome of realising a target vector by panels.

    reached: the largest z found (every unit has at least z times its target); met: z is 1 up to
    the LP tolerances. recent: the columns with positive weight in the last rounds.
    """

    reached: float
    met: bool
    master: MasterLP
    recent: list[np.ndarray]
    rounds: int
    columns_added: int


def _target_master(
    run: ColumnGeneration, target: np.ndarray, panels: list[np.ndarray]
) -> tuple[MasterLP, pywraplp.Variable]:
    """A master maximising z subject to p_u >= z * target_u for every active unit."""
    master = MasterLP(run.inst)
    solver = master.solver
    z = solver.NumVar(0.0, 1.0, "z")
    for u in run.active:
        row = solver.Add(solver.Sum([]) - float(target[u]) * z >= 0.0)
        master.add_row(int(u), row, 1.0)
    master.objective.SetCoefficient(z, 1.0)
    master.objective.SetMaximization()
    for panel in panels:
        master.add_column(panel)
    return master, z


def realise_target(run: ColumnGeneration, target: np.ndarray, walks: Walks) -> Realised:
    """Column generation for one LP: maximise z subject to p_u >= z * target_u for every active
    unit, where p is the distribution's probability vector; the walks' panels first, then
    pricing.

    When the target is the relaxation's LEXIMIN vector, it sums to k like every p, so z = 1
    means p = target: the distribution is LEXIMIN, certified by the relaxation. z < 1 with no
    improving panel means the relaxation is not tight on this instance.
    """
    master, z = _target_master(run, target, run.covering.panels)
    last_used: dict[bytes, int] = {}
    rounds = 0
    columns_added = 0
    zval = 0.0
    fresh = len(master.panels)
    large = len(run.active) > _PRESOLVE_ROWS
    while True:
        rounds += 1
        master.solve(run.clock, presolve=large and fresh > _PRESOLVE_ABOVE)
        fresh = 0
        zval = z.solution_value()
        for column in master.used():
            last_used[column.tobytes()] = rounds
        if zval >= TARGET_MET:
            break
        if len(master.panels) > _PRUNE_ABOVE:
            # The LP's cost per round grows with its columns: keep those used lately. The current
            # solution stays feasible, so z cannot drop.
            keep = _used_since(master.panels, last_used, rounds - _RECENT_ROUNDS)
            run.lp_totals.retire(master)
            master, z = _target_master(run, target, keep)
            master.solve(run.clock)
            zval = z.solution_value()
        new = walks.next()
        best_rc = math.nan
        if not new:
            g, theta = master.pricing_weights()
            new, best_rc = run.pricer.price(g, theta, master)
        run.emit(TargetRound(run.algorithm, rounds, zval, len(master.panels), best_rc))
        if not new:
            break
        for c in new:
            added = master.add_column(c)
            columns_added += int(added)
            fresh += int(added)
    return Realised(
        reached=zval,
        met=zval >= TARGET_MET,
        master=master,
        recent=_used_since(master.panels, last_used, rounds - _RECENT_ROUNDS),
        rounds=rounds,
        columns_added=columns_added,
    )


def _used_since(
    panels: list[np.ndarray], last_used: dict[bytes, int], since: int
) -> list[np.ndarray]:
    """The panels with positive weight in some round from ``since`` on."""
    return [c for c in panels if last_used.get(c.tobytes(), -1) >= since]
