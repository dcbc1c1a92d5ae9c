"""Brute force for the engine's tests: small random pools, every feasible panel of one, the
exact LEXIMIN over those panels (one LP per person and level), the panels within a diversity
bound, a pool with a person on no panel, and a driver that counts the random cases it checked.
Shared by the engine's test modules (no test module imports another)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from typing import TypeVar

import numpy as np
from ortools.linear_solver import pywraplp

from sortition.engine.diversity import measure_of
from sortition.units import Distribution, UnitInstance, from_people

Case = TypeVar("Case")


def feasible_cases(
    seeds: Iterable[int], make: Callable[[int], Case | None], floor: int
) -> Iterator[tuple[int, Case]]:
    """(seed, case) for every seed whose random case ``make`` could build (None: infeasible,
    nothing to check); fails once the seeds are exhausted if fewer than ``floor`` cases were
    checked, so that a random-case test cannot pass having checked (almost) nothing."""
    checked = 0
    for seed in seeds:
        case = make(seed)
        if case is None:
            continue
        checked += 1
        yield seed, case
    assert checked >= floor, f"only {checked} random cases were feasible (at least {floor})"


# values, vmin, vmax, feature_of_value, households, k (the arguments of from_people)
People = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, int]


def random_people(rng: np.random.Generator, n: int, with_households: bool) -> People:
    """Random small pool: 2-3 features of 2-3 values, quotas around proportional shares."""
    n_features = int(rng.integers(2, 4))
    sizes = [int(rng.integers(2, 4)) for _ in range(n_features)]
    offsets = np.cumsum([0, *sizes[:-1]])
    k = int(rng.integers(2, max(3, n // 2 + 1)))
    # Skewed value frequencies so that types and quotas interact.
    cols = []
    for f, s in enumerate(sizes):
        p = rng.dirichlet(np.ones(s))
        cols.append(offsets[f] + rng.choice(s, size=n, p=p))
    values = np.stack(cols, axis=1)
    fov = np.concatenate([[f] * s for f, s in enumerate(sizes)])
    vmin = np.zeros(len(fov), dtype=np.int64)
    vmax = np.zeros(len(fov), dtype=np.int64)
    for v in range(len(fov)):
        share = k * float(np.mean(values[:, fov[v]] == v))
        vmin[v] = max(0, math.floor(share) - int(rng.integers(0, 2)))
        vmax[v] = math.ceil(share) + int(rng.integers(0, 2))
    households = None
    if with_households:
        households = rng.integers(0, max(2, n - 3), size=n)
    return values, vmin, vmax, fov, households, k


def random_case(
    rng: np.random.Generator, seed: int, by_type: bool
) -> tuple[UnitInstance, np.ndarray, np.ndarray] | None:
    """A random pool of 6-12 people drawn from ``rng`` (every third ``seed`` with households):
    its instance, each person's unit and its feasible panels (by person); None if it has no
    panel."""
    values, vmin, vmax, fov, hh, k = random_people(rng, int(rng.integers(6, 13)), seed % 3 == 0)
    panels = brute_panels(values, vmin, vmax, hh, k)
    if len(panels) == 0:
        return None
    inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=by_type)
    return inst, unit, panels


def random_mix(seed: int, base: int) -> tuple[UnitInstance, np.ndarray] | None:
    """A random pool of 6-11 people on the person path (drawn from ``base + seed``; every third
    ``seed`` with households) and a random mix of its feasible panels (in counts); None if it has
    no panel."""
    rng = np.random.default_rng(base + seed)
    values, vmin, vmax, fov, hh, k = random_people(rng, int(rng.integers(6, 12)), seed % 3 == 0)
    panels = brute_panels(values, vmin, vmax, hh, k)
    if len(panels) == 0:
        return None
    inst, _ = from_people(values, vmin, vmax, fov, hh, k, by_type=False)
    weights = rng.dirichlet(np.ones(len(panels)))
    return inst, weights @ panels.astype(float)


def brute_panels(
    values: np.ndarray, vmin: np.ndarray, vmax: np.ndarray, households: np.ndarray | None, k: int
) -> np.ndarray:
    """Every feasible panel as a 0/1 row over people."""
    n = values.shape[0]
    out = []
    for combo in itertools.combinations(range(n), k):
        idx = list(combo)
        counts = np.bincount(values[idx].ravel(), minlength=len(vmin))
        if (counts < vmin).any() or (counts > vmax).any():
            continue
        if households is not None and len(set(households[idx].tolist())) < k:
            continue
        row = np.zeros(n, dtype=np.int64)
        row[idx] = 1
        out.append(row)
    return np.array(out, dtype=np.int64).reshape(-1, n)


def lp_max(panels: np.ndarray, lower: np.ndarray, target: int | None, z_people: list[int]) -> float:
    """max z (or p_target) over distributions on ``panels``: p >= lower, p_i >= z on z_people."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    lam = [solver.NumVar(0, 1, "") for _ in range(len(panels))]
    z = solver.NumVar(0, 1, "z")
    solver.Add(solver.Sum(lam) == 1)
    n = panels.shape[1]
    for i in range(n):
        p = solver.Sum([float(panels[j, i]) * lam[j] for j in range(len(panels)) if panels[j, i]])
        if i in z_people:
            solver.Add(p >= z)
        if lower[i] > 0:
            solver.Add(p >= lower[i] - 1e-9)
        if i == target:
            solver.Maximize(p)
    if target is None:
        solver.Maximize(z)
    assert solver.Solve() == pywraplp.Solver.OPTIMAL
    return float(solver.Objective().Value())


def brute_within_diversity(
    people: People, within: Fraction
) -> tuple[np.ndarray, np.ndarray, Fraction] | None:
    """Every feasible panel of ``people``, those whose diversity score (docs/diversity.md) is at
    most (1 + ``within``) × the least, and that limit; None if no panel is feasible."""
    values, vmin, vmax, fov, households, k = people
    panels = brute_panels(values, vmin, vmax, households, k)
    if not len(panels):
        return None
    measure = measure_of(values, fov, k)
    scores = [measure.exact_score(values[np.flatnonzero(row)]) for row in panels]
    limit = min(scores) * (1 + within)
    return panels, panels[[score <= limit for score in scores]], limit


def never_selectable_instance() -> UnitInstance:
    """Four people, k = 2; person 2's value has the maximum 0, so person 2 is on no panel and
    the other three share the panel equally (2/3 each)."""
    return from_people(
        np.array([[0, 2], [0, 3], [1, 2], [0, 2]]),
        np.array([0, 0, 0, 0]),
        np.array([3, 0, 3, 3]),
        np.array([0, 0, 1, 1]),
        None,
        2,
        by_type=False,
    )[0]


def brute_leximin(panels: np.ndarray) -> np.ndarray:
    """Exact LEXIMIN: fix everyone who cannot rise above the current level (one LP each)."""
    n = panels.shape[1]
    selectable = np.asarray(panels.any(axis=0), dtype=bool)
    value = np.zeros(n)
    unfixed = [i for i in range(n) if bool(selectable[i])]
    while unfixed:
        z = lp_max(panels, value, None, unfixed)
        lower = value.copy()
        lower[unfixed] = z
        stuck = [i for i in unfixed if lp_max(panels, lower, i, []) <= z + 1e-7]
        assert stuck
        for i in stuck:
            value[i] = z
        unfixed = [i for i in unfixed if i not in stuck]
    return value


def person_probability(dist: Distribution, unit_of_person: np.ndarray) -> np.ndarray:
    return dist.unit_probability[unit_of_person]


class _BruteHeight:
    """min over distributions on ``panels`` of the largest probability, with every selectable
    person's at least a given smallest (one GLOP model; the smallest changes bounds only)."""

    def __init__(self, panels: np.ndarray) -> None:
        self.solver = solver = pywraplp.Solver.CreateSolver("GLOP")
        lam = [solver.NumVar(0, 1, "") for _ in range(len(panels))]
        self.h = solver.NumVar(0, 1, "h")
        solver.Add(solver.Sum(lam) == 1)
        self.p = []
        for i in range(panels.shape[1]):
            rows = [j for j in range(len(panels)) if panels[j, i]]
            if rows:
                p = solver.NumVar(0, 1, "")
                solver.Add(solver.Sum([lam[j] for j in rows]) == p)
                solver.Add(p <= self.h)
                self.p.append(p)
        solver.Minimize(self.h)

    def __call__(self, smallest: float) -> float | None:
        for p in self.p:
            p.SetLb(smallest)
        if self.solver.Solve() != pywraplp.Solver.OPTIMAL:
            return None
        return float(self.h.solution_value())


def brute_goldilocks(panels: np.ndarray, gamma: float) -> float:
    """min over distributions on ``panels`` of max p / m + gamma * m / min p (m = k / n, the
    minimum over the people on some panel), by a ternary search over the minimum (the objective
    is convex in it), each step an LP over all the panels."""
    n = panels.shape[1]
    k = int(panels[0].sum())
    m = k / n
    selectable = [i for i in range(n) if panels[:, i].any()]
    top = lp_max(panels, np.zeros(n), None, selectable)
    height = _BruteHeight(panels)

    def g(smallest: float) -> float:
        h = height(smallest)
        return math.inf if h is None else h / m + gamma * m / smallest

    lo, hi = 0.0, top
    for _ in range(70):
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if g(a) <= g(b):
            hi = b
        else:
            lo = a
    return min(g((lo + hi) / 2), g(top))


def brute_nash(panels: np.ndarray) -> float:
    """Optimal sum of log-probabilities by a fine outer approximation over all panels."""
    n = panels.shape[1]
    sel = np.flatnonzero(panels.any(axis=0))
    solver = pywraplp.Solver.CreateSolver("GLOP")
    lam = [solver.NumVar(0, 1, "") for _ in range(len(panels))]
    solver.Add(solver.Sum(lam) == 1)
    t = {}
    pts = np.geomspace(1e-4, 1.0, 400)
    for i in sel:
        t[i] = solver.NumVar(-solver.infinity(), 0, "")
        p = solver.Sum([float(panels[j, i]) * lam[j] for j in range(len(panels)) if panels[j, i]])
        for x in pts:
            solver.Add(t[i] <= math.log(x) + (p - x) / x)
    solver.Maximize(solver.Sum(list(t.values())))
    assert solver.Solve() == pywraplp.Solver.OPTIMAL
    assert n > 0
    return float(solver.Objective().Value())
