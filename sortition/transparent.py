"""The transparent lottery: round a distribution over panels to a uniform lottery over M panels.

Flanigan, Kehne and Procaccia, *Fair Sortition Made Transparent* (NeurIPS 2021). A distribution
gives panel P (a count vector over units) the weight p_P. A *uniform lottery* of size M gives it an
integer number of slots c_P >= 0 with sum c_P = M; the public draw then picks one of the M slots
uniformly (e.g. d ten-sided dice for M = 10**d), which anyone can check by hand.

The realised probability of a member of unit u is pi'_u = s_u / (M * cap_u) with
s_u = sum_P c_P * panel[P, u], against pi_u = t_u / (M * cap_u) with
t_u = M * sum_P p_P * panel[P, u].
We minimise the largest change over people, max_u |s_u - t_u| / cap_u (that is M * max |pi' - pi|):

* ``exact``: the integer program, solved by CP-SAT (one worker, fixed seed, deterministic time
  limit). The real targets t_u are scaled by ``scale`` (about 10**6) and rounded to integers, so the
  optimum is exact up to 1 / scale slots per person (about 10**-9 in probability for M = 1000);
* ``beck-fiala``: iterative (Beck–Fiala) dependent rounding of the residuals M*p_P - floor(M*p_P);
  a unit's row is kept exact while its remaining fractional weight sum_P panel[P,u]/cap_u exceeds
  k, the sum row always, so every person's probability moves by at most k/M;
* ``pipage``: deterministic pipage rounding of the same residuals: the two lowest-index fractional
  panels trade mass until one is integral, in the direction that keeps the largest change so far
  smaller (ties: the lower-index panel goes up). No worst-case bound beyond the trivial one, but
  usually close to Beck–Fiala.

Everything is deterministic: no random numbers are used, CP-SAT runs with a single worker, a fixed
seed and a *deterministic* time limit (so a re-run on the same OR-Tools version finds the same
solution), and the linear algebra of Beck–Fiala is plain Gaussian elimination in IEEE arithmetic.

The M lottery panels are numbered 1..M: distribution panels in index order, panel p repeated
counts[p] times (``UniformLottery.panel_indices``). ``assign_members`` turns them into people:
each unit's slots, taken in lottery-panel order, go to its members in rotation in id order, so
every member of a unit with s slots and n members is on floor(s/n) or ceil(s/n) of the M panels
(the first s mod n members in id order get the extra one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from sortition.cancel import solve_cp_sat
from sortition.units import UnitInstance

METHODS = ("best", "exact", "beck-fiala", "pipage")
EXACT = "exact"
CPSAT_FEASIBLE = "cp-sat (time limit, best found)"
BECK_FIALA = "beck-fiala"
PIPAGE = "pipage"

CPSAT_SEED = 0
# Fractional parts within SNAP of 0 or 1 are taken as integral (float noise of M * p_P).
SNAP = 1e-9
# Target scale for CP-SAT: t_u is represented as round(scale * t_u).
DEFAULT_SCALE = 10**6
_MAX_MAGNITUDE = 2**52
# CP-SAT stops after ``time_limit`` units of its *deterministic* time (machine-independent, so a
# re-run finds the same solution); a unit took 3-7 s of wall time on a busy 2-core machine. The
# wall clock stops it only as a safety net, after WALL_CLOCK_FACTOR * time_limit + 10 s, and a
# search cut short that way is discarded (the fallback is used), keeping the result reproducible.
WALL_CLOCK_FACTOR = 10.0


@dataclass(frozen=True)
class UniformLottery:
    """A uniform lottery over M panels, given as slot counts per distribution panel.

    counts: (P,) non-negative ints summing to m, the slots of each distribution panel.
    method: "exact" (CP-SAT proved optimal), "cp-sat (time limit, best found)", "beck-fiala" or
        "pipage": what produced ``counts``.
    max_change: the largest |pi'_u - pi_u| over people (units), pi' the realised probability.
    bound: k / m, the Beck–Fiala guarantee.
    """

    counts: np.ndarray
    m: int
    method: str
    max_change: float
    bound: float

    def panel_indices(self) -> list[int]:
        """Length m: the 0-based distribution-panel index of lottery panels 1..m (list position
        j is lottery panel j + 1): panels in index order, panel p repeated counts[p] times."""
        return [p for p, c in enumerate(self.counts.tolist()) for _ in range(int(c))]


# --------------------------------------------------------------------------- shared helpers


def _check_inputs(
    units: UnitInstance, panels: np.ndarray, weights: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray]:
    pan = np.asarray(panels, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    if pan.ndim != 2 or pan.shape[1] != units.n_units:
        raise ValueError(f"panels must have shape (P, {units.n_units})")
    if w.shape != (pan.shape[0],):
        raise ValueError(f"weights must have shape ({pan.shape[0]},)")
    if not np.isfinite(w).all() or (w < -1e-9).any():
        raise ValueError("weights must be finite and non-negative")
    if isinstance(m, bool) or int(m) != m or m < 1:
        raise ValueError("m must be a positive integer")
    w = np.clip(w, 0.0, None)
    total = float(w.sum())
    if total <= 0:
        raise ValueError("the distribution has no weight")
    if (pan < 0).any() or (pan > units.capacity[None, :]).any():
        raise ValueError("panel counts must lie between 0 and each unit's capacity")
    return pan, w / total


def _targets(pan: np.ndarray, w: np.ndarray, m: int) -> np.ndarray:
    """t_u = M * sum_P p_P * panel[P, u]: each unit's expected number of slots."""
    return float(m) * (pan.T.astype(np.float64) @ w)


def _slot_change(pan: np.ndarray, counts: np.ndarray, t: np.ndarray, cap: np.ndarray) -> float:
    """max_u |s_u - t_u| / cap_u, i.e. M times the largest change of a person's probability."""
    if pan.shape[1] == 0:
        return 0.0
    s = pan.T.astype(np.float64) @ counts.astype(np.float64)
    return float(np.max(np.abs(s - t) / cap))


def realised_unit_probability(
    units: UnitInstance, panels: np.ndarray, lottery: UniformLottery
) -> np.ndarray:
    """(U,) the probability of each unit's members under the uniform lottery."""
    pan = np.asarray(panels, dtype=np.int64)
    s = pan.T @ np.asarray(lottery.counts, dtype=np.int64)
    return s / (float(lottery.m) * units.capacity)


def _residuals(w: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """floor(M * p_P) and the fractional parts, with float noise near 0 and 1 snapped away."""
    x = float(m) * w
    base = np.floor(x)
    frac = x - base
    up = frac > 1.0 - SNAP
    base[up] += 1.0
    frac[up] = 0.0
    frac[frac < SNAP] = 0.0
    missing = m - int(base.sum())
    if abs(float(frac.sum()) - missing) > 1e-6 * max(1, len(w)):
        raise AssertionError("residuals do not sum to an integer")
    return base.astype(np.int64), frac


def _finish_rounding(base: np.ndarray, frac: np.ndarray, m: int) -> np.ndarray:
    """Integer counts from base + (snapped) fractional parts, repaired to sum exactly to m."""
    counts = base + np.rint(frac).astype(np.int64)
    # Only float noise can leave the sum off by one; repair deterministically by residual.
    while int(counts.sum()) < m:
        counts[int(np.argmax(frac - (counts - base)))] += 1
    while int(counts.sum()) > m:
        options = np.where(counts > 0, (counts - base) - frac, -np.inf)
        counts[int(np.argmax(options))] -= 1
    return counts


# --------------------------------------------------------------------------- Beck–Fiala


def _kernel_vector(matrix: np.ndarray) -> np.ndarray | None:
    """A non-zero vector d with matrix @ d = 0 (Gaussian elimination with partial pivoting, the
    first free column set to 1, other free columns 0), scaled to max |d| = 1; None if the kernel
    is trivial. Elementwise IEEE arithmetic only, so the result is the same on every machine."""
    a = np.array(matrix, dtype=np.float64)
    rows, cols = a.shape
    tol = 1e-10 * max(1.0, float(np.abs(a).max()) if a.size else 1.0)
    pivots: list[int] = []
    r = 0
    for col in range(cols):
        if r == rows:
            break
        best = r + int(np.argmax(np.abs(a[r:, col])))
        if abs(a[best, col]) <= tol:
            continue
        if best != r:
            a[[r, best]] = a[[best, r]]
        a[r] = a[r] / a[r, col]
        others = np.arange(rows) != r
        a[others] -= np.outer(a[others, col], a[r])
        pivots.append(col)
        r += 1
    free = [c for c in range(cols) if c not in set(pivots)]
    if not free:
        return None
    d = np.zeros(cols)
    d[free[0]] = 1.0
    for row, col in enumerate(pivots):
        d[col] = -a[row, free[0]]
    return d / float(np.abs(d).max())


def _step_lengths(f: np.ndarray, d: np.ndarray) -> tuple[float, float]:
    """Largest lam+ and lam- keeping f + lam+ d and f - lam- d inside [0, 1]."""
    pos, neg = d > 0, d < 0
    up = min(
        float(np.min((1.0 - f[pos]) / d[pos])) if pos.any() else np.inf,
        float(np.min(f[neg] / -d[neg])) if neg.any() else np.inf,
    )
    down = min(
        float(np.min(f[pos] / d[pos])) if pos.any() else np.inf,
        float(np.min((1.0 - f[neg]) / -d[neg])) if neg.any() else np.inf,
    )
    return up, down


def _snap(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    out[out < SNAP] = 0.0
    out[out > 1.0 - SNAP] = 1.0
    return out


def beck_fiala_counts(
    units: UnitInstance, panels: np.ndarray, weights: np.ndarray, m: int
) -> np.ndarray:
    """Beck–Fiala iterative rounding of the residuals; |pi'_u - pi_u| <= k/m for every unit.

    Each round keeps exact the sum row and every unit row whose remaining fractional weight
    sum_{P floating} panel[P,u]/cap_u exceeds k; since every column has weight at most k there
    are fewer such rows than floating panels, so (but for a degenerate square case, where the
    lightest such row is released) a direction in their kernel exists. The floating panels move
    along it (on the first rows+1 floating panels only) until one more is integral, in whichever
    of the two directions gives the smaller largest change so far (ties: +). A row drops out
    once its weight is at most k, and every later move of a panel is less than 1, so the row
    changes by less than k in all. (A row released in the degenerate case, with weight still
    above k, loses that guarantee; the achieved change is always measured and reported.)
    """
    pan, w = _check_inputs(units, panels, weights, m)
    base, f = _residuals(w, m)
    cap = units.capacity.astype(np.float64)
    a = pan.T.astype(np.float64) / cap[:, None]  # (U, P) person-normalised rows
    dev = np.zeros(units.n_units)  # a @ (f - f0): slots gained per person so far
    k = float(units.k)
    released: set[int] = set()
    for _ in range(4 * len(f) + 10):  # each round makes a panel integral; the cap is a guard
        floating = np.flatnonzero((f > 0.0) & (f < 1.0))
        if len(floating) <= 1:
            break
        weight = a[:, floating].sum(axis=1)
        active = [int(u) for u in np.flatnonzero(weight > k + 1e-9) if int(u) not in released]
        d_full: np.ndarray | None = None
        while d_full is None:
            rows = np.vstack([a[active][:, floating], np.ones((1, len(floating)))])
            cols = floating[: min(len(floating), rows.shape[0] + 1)]
            d = _kernel_vector(rows[:, : len(cols)])
            if d is None:
                # Degenerate: as many independent rows as floating panels. Release the lightest.
                lightest = min(active, key=lambda u: (weight[u], u))
                released.add(lightest)
                active.remove(lightest)
                continue
            d_full = np.zeros(len(f))
            d_full[cols] = d
        up, down = _step_lengths(f[cols], d_full[cols])
        move = a[:, cols] @ d_full[cols]
        f_up, f_down = _snap(f + up * d_full), _snap(f - down * d_full)
        dev_up, dev_down = dev + up * move, dev - down * move
        if float(np.abs(dev_down).max(initial=0.0)) < float(np.abs(dev_up).max(initial=0.0)):
            f, dev = f_down, dev_down
        else:
            f, dev = f_up, dev_up
    return _finish_rounding(base, f, m)


# --------------------------------------------------------------------------- pipage


def pipage_counts(
    units: UnitInstance, panels: np.ndarray, weights: np.ndarray, m: int
) -> np.ndarray:
    """Deterministic pipage rounding of the residuals M*p_P - floor(M*p_P).

    While two panels are fractional, the two of lowest index trade mass (one up, one down, the
    sum unchanged) until one of them is integral, in the direction whose largest change over units
    so far is smaller (ties: the lower-index panel goes up)."""
    pan, w = _check_inputs(units, panels, weights, m)
    base, f = _residuals(w, m)
    cap = units.capacity.astype(np.float64)
    a = pan.T.astype(np.float64) / cap[:, None]
    dev = np.zeros(units.n_units)
    for _ in range(4 * len(f) + 10):  # each round makes a panel integral; the cap is a guard
        floating = np.flatnonzero((f > 0.0) & (f < 1.0))
        if len(floating) <= 1:
            break
        i, j = int(floating[0]), int(floating[1])
        diff = a[:, i] - a[:, j]
        up = min(1.0 - f[i], f[j])  # i up, j down
        down = min(f[i], 1.0 - f[j])  # i down, j up
        dev_up, dev_down = dev + up * diff, dev - down * diff
        g = f.copy()
        if float(np.abs(dev_down).max(initial=0.0)) < float(np.abs(dev_up).max(initial=0.0)):
            g[i], g[j] = f[i] - down, f[j] + down
            dev = dev_down
        else:
            g[i], g[j] = f[i] + up, f[j] - up
            dev = dev_up
        f = _snap(g)
        # Guard against a pair that float noise left both fractional.
        if 0.0 < f[i] < 1.0 and 0.0 < f[j] < 1.0:
            f[i] = float(np.rint(f[i]))
    return _finish_rounding(base, f, m)


# --------------------------------------------------------------------------- exact (CP-SAT)


def _cpsat_counts(
    pan: np.ndarray,
    t: np.ndarray,
    cap: np.ndarray,
    m: int,
    hint: np.ndarray,
    hint_value: float,
    time_limit: float,
) -> tuple[np.ndarray | None, bool]:
    """Minimise max_u |s_u - t_u| / cap_u over integer counts summing to m.

    Returns (counts or None, proven optimal)."""
    n_panels, n_units = pan.shape
    scale = DEFAULT_SCALE
    # Largest magnitude in a scaled row: scale * m * (k * P + 2 * cap), kept below 2**52.
    biggest = float(m) * (
        float(pan.sum(axis=1).max(initial=1)) * n_panels + 2.0 * float(cap.max(initial=1))
    )
    while scale > 1 and scale * biggest > _MAX_MAGNITUDE:
        scale //= 10
    model = cp_model.CpModel()
    c = [model.new_int_var(0, m, f"c{p}") for p in range(n_panels)]
    # z >= scale * |s_u - t_u| / cap_u; the hint's value bounds it from above.
    # s_u is an integer, so |s_u - t_u| >= dist(t_u, Z): a lower bound that lets CP-SAT prove
    # optimality when the hint already reaches it.
    gap = np.abs(t - np.rint(t))
    z_min = max(0, int(np.floor(float(np.max((scale * gap - 0.5) / cap, initial=0.0)))))
    z_max = max(z_min, int(np.ceil(scale * hint_value)) + 1)
    z = model.new_int_var(z_min, z_max, "z")
    model.add(sum(c) == m)
    for u in range(n_units):
        column = pan[:, u]
        used = np.flatnonzero(column)
        target = round(scale * float(t[u]))
        s_scaled = sum(int(scale * column[p]) * c[int(p)] for p in used) if len(used) else 0
        model.add(s_scaled - target <= int(cap[u]) * z)
        model.add(target - s_scaled <= int(cap[u]) * z)
    for p in range(n_panels):
        model.add_hint(c[p], int(hint[p]))
    model.minimize(z)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = CPSAT_SEED
    solver.parameters.max_deterministic_time = float(time_limit)
    # Wall-clock safety net only; the deterministic limit normally stops the search first.
    solver.parameters.max_time_in_seconds = WALL_CLOCK_FACTOR * float(time_limit) + 10.0
    status = solve_cp_sat(solver, model)
    if status == cp_model.FEASIBLE and solver.deterministic_time < 0.999 * float(time_limit):
        # Stopped by the wall clock: where it stopped depends on the machine, so drop it.
        return None, False
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    counts = np.array([solver.value(v) for v in c], dtype=np.int64)
    return counts, status == cp_model.OPTIMAL


# --------------------------------------------------------------------------- entry points


def round_to_uniform(
    units: UnitInstance,
    panels: np.ndarray,
    weights: np.ndarray,
    m: int,
    *,
    time_limit: float = 10.0,
    method: str = "best",
) -> UniformLottery:
    """Round a distribution (panels (P, U), weights (P,)) to a uniform lottery over m panels.

    method "best" (default): both fallbacks, then CP-SAT hinted with the better of them; the CP-SAT
    answer is used when proven optimal ("exact") or, when the deterministic time limit stopped it,
    when it is strictly better than the fallback ("cp-sat (time limit, best found)"). "exact" is
    the same. "beck-fiala" or "pipage" run that fallback alone.

    time_limit: CP-SAT's deterministic time limit (see WALL_CLOCK_FACTOR), not wall seconds.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    pan, w = _check_inputs(units, panels, weights, m)
    m = int(m)
    cap = units.capacity.astype(np.float64)
    t = _targets(pan, w, m)
    bound = units.k / m

    def lottery(counts: np.ndarray, name: str) -> UniformLottery:
        counts = np.asarray(counts, dtype=np.int64)
        if int(counts.sum()) != m or (counts < 0).any():
            raise AssertionError("rounding produced invalid counts")
        change = _slot_change(pan, counts, t, cap) / m
        return UniformLottery(counts, m, name, change, bound)

    if method == BECK_FIALA:
        return lottery(beck_fiala_counts(units, pan, w, m), BECK_FIALA)
    if method == PIPAGE:
        return lottery(pipage_counts(units, pan, w, m), PIPAGE)

    bf = lottery(beck_fiala_counts(units, pan, w, m), BECK_FIALA)
    pp = lottery(pipage_counts(units, pan, w, m), PIPAGE)
    fallback = pp if pp.max_change < bf.max_change else bf
    if fallback.max_change * m < SNAP:
        return lottery(fallback.counts, EXACT)  # nothing can beat zero change
    counts, optimal = _cpsat_counts(
        pan, t, cap, m, fallback.counts, fallback.max_change * m, time_limit
    )
    if counts is None:
        return fallback
    if optimal:
        return lottery(counts, EXACT)
    found = lottery(counts, CPSAT_FEASIBLE)
    return found if found.max_change < fallback.max_change else fallback


def assign_members(
    lottery: UniformLottery, panels: np.ndarray, members_of_unit: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """The m lottery panels as sorted arrays of canonical person indices, in lottery order.

    Lottery panels are taken in ``panel_indices`` order; in each, unit u with count c gives the
    next c of its members (id order) in rotation, continuing where the previous panel stopped, so
    a unit with s slots and n members puts each member on floor(s/n) or ceil(s/n) panels."""
    pan = np.asarray(panels, dtype=np.int64)
    if len(members_of_unit) != pan.shape[1]:
        raise ValueError("members_of_unit must list the members of every unit")
    members = [np.asarray(mu, dtype=np.int64) for mu in members_of_unit]
    for u, mu in enumerate(members):
        if int(pan[:, u].max(initial=0)) > len(mu):
            raise ValueError(f"a panel takes more members of unit {u} than it has")
    next_member = [0] * len(members)
    result: list[np.ndarray] = []
    for p in lottery.panel_indices():
        chosen: list[int] = []
        for u in np.flatnonzero(pan[p]).tolist():
            mu, c, start = members[u], int(pan[p, u]), next_member[u]
            chosen.extend(int(mu[(start + i) % len(mu)]) for i in range(c))
            next_member[u] = (start + c) % len(mu)
        result.append(np.array(sorted(chosen), dtype=np.int64))
    return result
