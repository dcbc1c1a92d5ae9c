"""Realising a target point by panels: a master LP that maximises z subject to every unit's
probability being at least z times its target, fed by face walks towards the point first and by
pricing after them (LEXIMIN's relaxed vector, GOLDILOCKS's relaxed optimum)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from sortition.engine.columns import ColumnGeneration, Walks
from sortition.engine.master import WEIGHT_TOL, MasterLP, PanelKeys, mixture
from sortition.progress import TargetRound

logger = logging.getLogger(__name__)

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
# On pools of more than _PRESOLVE_ROWS active units, a walk's own weights are the distribution when
# their z, computed exactly from the panels, is at least WALK_MET: there the master holds its rows
# to GLOP's default absolute tolerance of 1e-8 (master.TIGHT_MASTER_UP_TO), which at the smallest
# targets (realistic7: 0.0094) is a relative error of about 1e-6 in the z it reports. The
# certificate is computed from the panels either way.
WALK_MET = 1.0 - 1e-6
# Until that z is WALK_MET, up to this many walks from the point where the last one left weight
# (``Walks.rest_walk``) add their panels, with that weight. Not beyond: at realistic7 n = 10,000
# the walk's 974 panels left 9.9e-8 of the weight and their z was 1 - 3.0e-7; a walk from there
# took 430 more steps (18 s of CPU, the run's 47 s -> 65 s) for a z of 1 - 3.4e-10, and the
# certificate's gap went from 5.88e-6 to 5.98e-6, the target's own (the nearest polytope point's
# smallest probability against the relaxation's bound): the walk's own weights had given the
# smallest unit a little more than its target.
_REST_WALKS = 2
# On pools of more than _CLOSE_ABOVE active units, a walk whose own weights still fall short of
# WALK_MET after the rest walks is the distribution when its z is at least WALK_CLOSE: there the
# master over its columns does not end (realistic7 n = 100,000: 6,977 columns × 20,144 rows, over
# 800 s of CPU unfinished), and at n = 1,000,000 (40,957 units) the walk's z sits at the edge of
# WALK_MET (1 - 8.3e-7 in one run; just below it after a change of the walk's path, whose master
# over 29,714 columns then ran on). The certificate, computed from the panels, states the gap.
WALK_CLOSE = 1.0 - 1e-5
_CLOSE_ABOVE = 10_000


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
    adopted_walk = False
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
        if new and large:
            adopted = walk_mixture(run, target, new, walks.weights)
            for _ in range(_REST_WALKS):
                if adopted is None or adopted[2] >= WALK_MET:
                    break
                more = walks.rest_walk()
                if not more:
                    break
                new = new + more
                adopted = walk_mixture(run, target, new, walks.weights)
            if adopted is not None:
                logger.debug(
                    "walk of %d panels, weight left %.3g, z of its own weights %.12f",
                    len(new),
                    1.0 - float(walks.weights.sum()),
                    adopted[2],
                )
            if adopted is not None and (
                adopted[2] >= WALK_MET
                or (len(run.active) > _CLOSE_ABOVE and adopted[2] >= WALK_CLOSE)
            ):
                # the walk's own weights meet the target (or, on the largest pools, come close
                # to it): no LP over its columns
                master.adopt(adopted[0], adopted[1])
                columns_added += len(master.panels)
                zval = adopted[2]
                adopted_walk = True
                run.emit(TargetRound(run.algorithm, rounds, zval, len(master.panels), math.nan))
                break
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
        met=zval >= TARGET_MET or adopted_walk,
        master=master,
        recent=_used_since(master.panels, last_used, rounds - _RECENT_ROUNDS),
        rounds=rounds,
        columns_added=columns_added,
    )


def walk_mixture(
    run: ColumnGeneration, target: np.ndarray, panels: list[np.ndarray], weights: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray, float] | None:
    """The distribution of a walk's panels with its own weights, as ``finish_distribution``
    will make it (repeated panels merged, weights below WEIGHT_TOL dropped, the rest
    renormalised), and its z: the smallest p_u / target_u over the active units with a positive
    target, computed from the panels themselves. None without weights.

    A walk is Carathéodory's decomposition of its start: when it ends with a negligible weight
    left, its panels and weights meet the target as they are (up to that weight and round-off),
    and the master's LP over thousands of columns is not needed (realistic7 n = 100,000: 6,977
    columns × 20,144 rows, over 800 s of CPU unfinished)."""
    if len(weights) != len(panels) or weights.sum() <= 0.0:
        return None
    merged: list[np.ndarray] = []
    lam: list[float] = []
    index: dict[bytes, int] = {}
    keys = PanelKeys()
    for panel, weight in zip(panels, (weights / weights.sum()).tolist(), strict=True):
        key = keys.digest(panel.astype(np.int64).tobytes())
        if key in index:
            lam[index[key]] += weight
        else:
            index[key] = len(merged)
            merged.append(panel)
            lam.append(weight)
    w = np.asarray(lam)
    w = np.where(w < WEIGHT_TOL, 0.0, w)
    w = w / w.sum()
    inst = run.inst
    prob = mixture(merged, w, inst.n_units) / inst.capacity
    active = run.active
    positive = active[target[active] > 0]
    z = float((prob[positive] / target[positive]).min()) if len(positive) else 1.0
    return merged, w, z


def _used_since(
    panels: list[np.ndarray], last_used: dict[bytes, int], since: int
) -> list[np.ndarray]:
    """The panels with positive weight in some round from ``since`` on."""
    return [c for c in panels if last_used.get(c.tobytes(), -1) >= since]
