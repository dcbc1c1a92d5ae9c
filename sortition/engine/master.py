"""The master LP of column generation: a distribution over a growing set of panels (columns).

The master is a GLOP linear program with one variable lambda_P >= 0 per panel P and the
convexity row sum lambda_P = 1. It is built once and kept: new panels are appended as columns,
fixed units become lower bounds, and GLOP re-solves from its previous basis. The objectives add
their own variables and rows (LEXIMIN's level z, NASH's tangent cuts); every row that panels
enter belongs to one unit u and has a multiplier alpha, so a panel's coefficient in it is
alpha * c_uP / capacity_u (the probability the panel gives each member of u).

Its duals price panels: a panel c enters when its reduced cost g @ c - theta is positive, where
g_u collects the duals of the rows of unit u divided by its capacity and theta is the dual of
the convexity row (``MasterLP.pricing_weights``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from sortition.cancel import solve_lp
from sortition.engine.errors import TimeLimitReached
from sortition.engine.settings import LARGE_POOL_UNITS
from sortition.units import (
    Certificate,
    Distribution,
    UnitInstance,
    count_dtype,
    relative_gap,
)

logger = logging.getLogger(__name__)

# Weights below this are dropped from the final distribution (and mark a column as unused).
WEIGHT_TOL = 1e-12
# Fixed units become lower bounds this much below their level, so that round-off in one solve
# cannot make the next one infeasible.
FIX_SLACK = 1e-10
# Scaling and presolve would rebuild the LP on every solve and defeat GLOP's warm start (measured:
# ~10x fewer simplex iterations per round without them).
GLOP_PARAMS = "use_preprocessing: false use_scaling: false"
# A master's rows (p_u >= z * target_u, a level's p_u >= z) hold to GLOP's primal feasibility
# tolerance, an absolute error in a probability (1e-8 by default): at a smallest probability of
# 0.0115 (ces11_k60) that alone is a relative gap of up to 9e-7 in the certificate, which moved
# between 2.6e-8 and 7.3e-7 with the panels a walk took. At 1e-10 (in every solve, presolved or
# not) LEXIMIN's gap there is 2.5e-8 instead of 2.7e-7, MAXIMIN's 8.5e-9 instead of 2.6e-8.
MASTER_TOLERANCES = "primal_feasibility_tolerance: 1e-10"
# Above this many units the master keeps GLOP's default tolerance: at 1e-10 GLOP's solves over a
# large master grow long (realistic7 n = 10,000, 6,031 units: MAXIMIN's master, 651 walk panels,
# did not finish within 150 s; at 1e-8 its two solves took 56 s of the whole run's 83 s).
TIGHT_MASTER_UP_TO = LARGE_POOL_UNITS


def compact_panel(panel: np.ndarray) -> np.ndarray:
    """A panel's counts in the smallest of int16 and int32 that holds them: a master and a walk
    keep thousands of panels of every unit (realistic7 n = 100,000: 6,977 panels of 20,144
    units, 1.1 GB as int64, 280 MB as int16). Arithmetic on them promotes as before."""
    small = panel.size == 0 or (int(panel.max()) < 2**15 and int(panel.min()) >= -(2**15))
    return np.ascontiguousarray(panel, dtype=np.int16 if small else np.int32)


class PanelKeys:
    """The panels already in a master, by a 16-byte digest of their counts as int64 bytes
    (``panel.astype(np.int64).tobytes()``, the key callers test with ``in``): the bytes
    themselves took 8 bytes a unit a panel."""

    def __init__(self) -> None:
        self._digests: set[bytes] = set()

    @staticmethod
    def digest(key: bytes) -> bytes:
        """The 16 bytes kept for a key."""
        return hashlib.blake2b(key, digest_size=16).digest()

    def add(self, key: bytes) -> None:
        self._digests.add(self.digest(key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and self.digest(key) in self._digests

    def __len__(self) -> int:
        return len(self._digests)


def mixture(panels: list[np.ndarray], lam: np.ndarray, n_units: int) -> np.ndarray:
    """sum_j lam_j * panels[j] in float64; above TIGHT_MASTER_UP_TO units without a dense
    matrix of every panel (in blocks of 256 panels, those with nonzero weight only: the sums
    may differ in their last bits, so smaller pools keep the one product)."""
    if n_units <= TIGHT_MASTER_UP_TO:
        return np.asarray(lam @ np.asarray(panels, dtype=np.float64).reshape(-1, n_units))
    total = np.zeros(n_units)
    used = np.flatnonzero(lam).tolist()
    for start in range(0, len(used), 256):
        block = used[start : start + 256]
        mat = np.asarray([panels[j] for j in block], dtype=np.float64)
        total += lam[block] @ mat
    return total


class Clock:
    """The caller's time limit: wall-clock seconds from the start, or none."""

    def __init__(self, time_limit: float | None) -> None:
        self.start = time.perf_counter()
        self.deadline = None if time_limit is None else self.start + time_limit

    def check(self) -> None:
        """Raise TimeLimitReached once the deadline has passed."""
        if self.past():
            raise TimeLimitReached

    def past(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


class MasterLP:
    """A GLOP LP whose columns are panels: lambda_P >= 0 with sum lambda_P = 1.

    ``panels[j]`` is the count vector of column j; ``keys`` holds their bytes, so that no panel
    enters twice. The counters (solves, seconds, simplex iterations, retries) say where the time
    went.
    """

    def __init__(self, inst: UnitInstance, *, glop_params: str = "") -> None:
        self.inst = inst
        self.solver = pywraplp.Solver.CreateSolver("GLOP")
        self.tolerances = MASTER_TOLERANCES if inst.n_units <= TIGHT_MASTER_UP_TO else ""
        # ``glop_params``: the caller's extra GLOP parameters for the warm solves (the level
        # masters' dual simplex on large pools); presolved solves and retries keep the defaults.
        self.params = f"{GLOP_PARAMS} {self.tolerances} {glop_params}".strip()
        self.solver.SetSolverSpecificParametersAsString(self.params)
        self.inf = self.solver.infinity()
        self.conv = self.solver.Add(self.solver.Sum([]) == 1)
        self.unit_rows: dict[int, list[tuple[pywraplp.Constraint, float]]] = {}
        self.columns: list[pywraplp.Variable] = []
        self.panels: list[np.ndarray] = []
        self.keys = PanelKeys()
        # weights set by ``adopt`` rather than by a solve
        self.given: np.ndarray | None = None
        self.lp_solves = 0
        self.lp_seconds = 0.0
        self.lp_iterations = 0
        self.retries = 0
        self.objective = self.solver.Objective()

    def add_row(self, unit: int, row: pywraplp.Constraint, alpha: float) -> None:
        """Register a row that panels enter; existing columns get their coefficients."""
        self.unit_rows.setdefault(unit, []).append((row, alpha))
        cap = float(self.inst.capacity[unit])
        for var, panel in zip(self.columns, self.panels, strict=True):
            if panel[unit]:
                row.SetCoefficient(var, alpha * panel[unit] / cap)

    def add_column(self, panel: np.ndarray) -> bool:
        """Add a panel unless it is already a column; returns whether it was added."""
        if self.given is not None:
            raise RuntimeError("a master with adopted weights takes no columns")
        key = panel.astype(np.int64).tobytes()
        if key in self.keys:
            return False
        self.keys.add(key)
        var = self.solver.NumVar(0.0, self.inf, "")
        self.conv.SetCoefficient(var, 1.0)
        cap = self.inst.capacity
        for u in np.flatnonzero(panel):
            rows = self.unit_rows.get(int(u))
            if rows:
                a = float(panel[u]) / float(cap[u])
                for row, alpha in rows:
                    row.SetCoefficient(var, alpha * a)
        self.columns.append(var)
        self.panels.append(compact_panel(panel))
        return True

    def adopt(self, panels: list[np.ndarray], weights: np.ndarray) -> None:
        """Take ``panels`` with the given ``weights`` as the master's solution, with no LP
        (``realise``: a walk's own weights that already meet the target). The master has no
        columns then: it is not solved again."""
        self.panels = [compact_panel(p) for p in panels]
        self.keys = PanelKeys()
        for panel in panels:
            self.keys.add(panel.astype(np.int64).tobytes())
        self.columns = []
        self.given = np.asarray(weights, dtype=np.float64)

    def solve(self, clock: Clock, *, presolve: bool = False) -> None:
        """Solve to optimality within the clock's time (TimeLimitReached past it). With
        ``presolve`` GLOP presolves and scales this once (from scratch, no warm start): for a
        solve after many new columns at once (``realise``)."""
        clock.check()
        if clock.deadline is not None:
            remaining = max(clock.deadline - time.perf_counter(), 1e-3)
            self.solver.SetTimeLimit(math.ceil(remaining * 1000))
        t0 = time.perf_counter()
        if presolve:
            self.solver.SetSolverSpecificParametersAsString(self.tolerances)
        status = solve_lp(self.solver)
        if presolve:
            self.solver.SetSolverSpecificParametersAsString(self.params)
        if status != pywraplp.Solver.OPTIMAL and not clock.past():
            # Should GLOP give up from a warm start (ABNORMAL), retry once with its default
            # parameters (presolve and scaling), which solve from scratch.
            self.retries += 1
            self.solver.SetSolverSpecificParametersAsString(self.tolerances)
            status = solve_lp(self.solver)
            self.solver.SetSolverSpecificParametersAsString(self.params)
        self.lp_seconds += time.perf_counter() - t0
        self.lp_solves += 1
        self.lp_iterations += int(self.solver.iterations())
        logger.debug(
            "master LP solved in %.3f s, %d iterations, %d columns",
            time.perf_counter() - t0,
            self.solver.iterations(),
            len(self.columns),
        )
        if status != pywraplp.Solver.OPTIMAL:
            clock.check()
            raise RuntimeError(f"master LP not solved to optimality (status {status})")

    def pricing_weights(self) -> tuple[np.ndarray, float]:
        """(g, theta): a panel c has reduced cost g @ c - theta."""
        g = np.zeros(self.inst.n_units)
        cap = self.inst.capacity
        for u, rows in self.unit_rows.items():
            g[u] = -sum(row.dual_value() * alpha for row, alpha in rows) / float(cap[u])
        return g, float(self.conv.dual_value())

    def weights(self) -> np.ndarray:
        if self.given is not None:
            return self.given
        return np.array([v.solution_value() for v in self.columns])

    def probabilities(self, lam: np.ndarray | None = None) -> np.ndarray:
        if lam is None:
            lam = self.weights()
        return mixture(self.panels, lam, self.inst.n_units) / self.inst.capacity

    def used(self) -> list[np.ndarray]:
        """The columns with positive weight in the last solve."""
        return [self.panels[int(j)] for j in np.flatnonzero(self.weights() > WEIGHT_TOL)]


@dataclass
class LpTotals:
    """LP effort of the masters already discarded (a master is rebuilt to drop columns)."""

    seconds: float = 0.0
    solves: int = 0
    iterations: int = 0
    retries: int = 0
    rebuilds: int = 0

    def retire(self, master: MasterLP) -> None:
        self.seconds += master.lp_seconds
        self.solves += master.lp_solves
        self.iterations += master.lp_iterations
        self.retries += master.retries
        self.rebuilds += 1


def finish_distribution(
    inst: UnitInstance,
    panels: list[np.ndarray],
    lam: np.ndarray,
    algorithm: str,
    stats: dict[str, float | int | str],
    selectable: np.ndarray,
    certify: Callable[[np.ndarray], Certificate] | None = None,
) -> Distribution:
    """The distribution of a master's solution: tiny weights dropped, the rest renormalised,
    panels in a deterministic order (their count vectors, lexicographically largest first).
    Adds the statistics every objective reports (panels, never_selectable, min_probability),
    and the certificate ``certify`` makes of the final probability of every unit.

    The panels are copied once, in their order, into one matrix in the smallest dtype that holds
    their largest count (``units.count_dtype``): the order comes from each panel's nonzero counts
    (``descending_order``), not from a sort of the matrix. realistic7 n = 1,000,000 (29,645
    panels × 40,957 types): 1.2 GB in int8 here, where the kept panels in int16, their sorted
    copy and its int64 widening took 2.4 + 2.4 + 9.7 GB beside the walk's own 2.4 GB."""
    lam = np.where(lam < WEIGHT_TOL, 0.0, lam)
    keep = np.flatnonzero(lam > 0).tolist()
    w = lam[keep]
    w = w / w.sum()
    kept = [panels[j] for j in keep]
    order = descending_order(kept)
    largest = max((int(p.max()) for p in kept if p.size), default=0)
    mat = np.empty((len(kept), inst.n_units), dtype=count_dtype(largest))
    for row, j in enumerate(order):
        mat[row] = kept[j]
    del kept
    w = w[order]
    prob = mixture(list(mat), w, inst.n_units) / inst.capacity
    never = tuple(int(u) for u in np.flatnonzero(~selectable))
    prob[~selectable] = 0.0
    stats["panels"] = len(w)
    stats["never_selectable"] = len(never)
    stats["min_probability"] = float(prob[selectable].min()) if selectable.any() else 0.0
    return Distribution(
        panels=mat,
        weights=w,
        unit_probability=prob,
        algorithm=algorithm,
        stats=stats,
        never_selectable=never,
        certificate=None if certify is None else certify(prob),
    )


# A unit index in a panel's order key: 4 bytes, big-endian, counted down from this.
_UNIT_KEY = 2**32 - 1


def descending_order(panels: list[np.ndarray]) -> np.ndarray:
    """The indices of ``panels`` (count vectors, non-negative, of one length) with their vectors
    lexicographically largest first, equal vectors in reverse order of index: what reversing
    ``np.lexsort`` of their matrix gives (a stable ascending sort), without that matrix.

    A panel's key is its nonzero entries in unit order as big-endian bytes (UNIT_KEY - unit,
    count): where two vectors first differ, either both have a nonzero count at that unit (the
    larger count wins) or one has a nonzero count at a unit where the other's next nonzero is
    later (the smaller unit, whose key bytes are larger, wins); a key that is a prefix of another
    is the vector with fewer nonzero counts, the smaller. Python's sort of the keys is stable."""
    keys: list[bytes] = []
    for panel in panels:
        units = np.flatnonzero(panel)
        pairs = np.empty((len(units), 2), dtype=">u4")
        pairs[:, 0] = _UNIT_KEY - units
        pairs[:, 1] = panel[units]
        keys.append(pairs.tobytes())
    ascending = sorted(range(len(keys)), key=keys.__getitem__)
    return np.asarray(ascending[::-1], dtype=np.int64)


SMALLEST_PROBABILITY = "smallest probability"


def smallest_probability_certificate(
    selectable: np.ndarray, bound: float, levels: tuple[float, ...] = ()
) -> Callable[[np.ndarray], Certificate]:
    """MAXIMIN's and LEXIMIN's certificate: ``bound`` on the smallest probability of the units on
    some panel, against the smallest the distribution gives."""

    def certify(probability: np.ndarray) -> Certificate:
        value = float(probability[selectable].min()) if selectable.any() else 0.0
        return Certificate(
            SMALLEST_PROBABILITY, "max", bound, value, relative_gap(bound, value, "max"), levels
        )

    return certify
