"""Alternates: A people chosen right after the draw, so that whoever drops out, the best subset of
the alternates restores the quotas as nearly as possible (Assos, Baharav, Flanigan, Procaccia
2025, "Alternates, assemble!").

Deviation of a panel: Σ over quota values of how far its count lies outside [min, max]. When the
members D drop out, the alternates' best subset B (|B| = min(|D|, A)) is the one whose panel
(stayers ∪ B) has the smallest deviation (``best_subset``, exact, CP-SAT). The loss of a set of
alternates is the expected deviation over the dropout model's scenarios.

* ``optimal`` (empirical risk minimisation): the set minimising the total deviation over
  sampled training scenarios. Candidates of the same type are interchangeable, so the search
  works on units. ``local_search`` starts from the better baseline and swaps one alternate at a
  time for the unit that lowers the total most, each scenario's best subset estimated greedily
  (``_greedy_losses``: fast, vectorised, never below the exact value), until a pass changes
  nothing; ``optimal_set`` (with an effort) then gives CP-SAT the exact model (x_u alternates of
  each unit; for each scenario y_{t,u} ≤ x_u of them; the summed deviations minimised) from
  that set, and its lower bound. Both keep to the ``SHORTLIST`` units closest to the members
  likely to drop out (their own type first, then types one value away) and the baselines' units.
  Measured on ces11_k60 (A = 12, 10 % dropouts; a machine with load about 8): CP-SAT from the
  better baseline lowered the training total by 1.4 % in 165 s over 200 units and by 34 % in
  41 s over about 60 units (50 scenarios); the local search lowered it by 52 % in 1.4 s (100
  scenarios). So the local search leads and CP-SAT is the optional polish.
* ``scaled quotas`` (the practitioners' first baseline): a set of A that meets the quotas scaled
  by A/k ([floor(min·A/k), ceil(max·A/k)]) as nearly as possible.
* ``nearest neighbour`` (the second): for each of the A members most likely to drop out, the
  unused candidate most like them (fewest differing values).

Candidates for alternates: the pool minus the panel and the households of its members; at most
one alternate per household. Among interchangeable people of a unit, who is named is drawn with
the seeded stream.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from sortition.cancel import solve_cp_sat
from sortition.engine import subset
from sortition.engine.dropout_model import draw_scenarios
from sortition.engine.subset import deviation, deviation_terms, subset_solver
from sortition.model import Instance
from sortition.randomness import SeededStream

log = logging.getLogger(__name__)

SHORTLIST = 200  # units the optimal model may choose from
DEFAULT_SCENARIOS = 100  # sampled scenarios the optimal set is fitted on
DEFAULT_EFFORT = 60.0  # CP-SAT deterministic time of the optimal model (about seconds)


@dataclass(frozen=True)
class Units:
    """The candidates for alternates, grouped into interchangeable units."""

    members: tuple[np.ndarray, ...]  # canonical person indices of each unit, in id order
    incidence: np.ndarray  # (U, V) 1 where the unit's people have the value
    households: tuple[tuple[int, ...], ...]  # units that share a household (per-person units)

    @property
    def capacity(self) -> np.ndarray:
        return np.array([len(m) for m in self.members], dtype=np.int64)

    @property
    def n_units(self) -> int:
        return len(self.members)


def candidate_units(instance: Instance, panel: np.ndarray) -> Units:
    """The pool minus the panel and its members' households, by type (by person when a household
    rule applies, with at most one alternate per household)."""
    pool, n_values = instance.pool, len(instance.quotas.rows)
    excluded = np.zeros(pool.size, dtype=bool)
    excluded[panel] = True
    if pool.households is not None:
        excluded |= np.isin(pool.households, pool.households[panel])
    candidates = np.flatnonzero(~excluded)
    if pool.households is not None:
        members = tuple(np.array([p], dtype=np.int64) for p in candidates)
        groups: dict[int, list[int]] = {}
        for u, p in enumerate(candidates):
            groups.setdefault(int(pool.households[p]), []).append(u)
        households = tuple(tuple(g) for _, g in sorted(groups.items()) if len(g) > 1)
    else:
        by_type: dict[tuple[int, ...], list[int]] = {}
        for p in candidates:
            by_type.setdefault(tuple(int(v) for v in pool.values[p]), []).append(int(p))
        members = tuple(np.array(m, dtype=np.int64) for m in by_type.values())
        households = ()
    incidence = np.zeros((len(members), n_values), dtype=np.int64)
    for u, m in enumerate(members):
        incidence[u, pool.values[m[0]]] = 1
    return Units(members, incidence, households)


def without_people(units: Units, people: np.ndarray) -> Units:
    """The units less the given people (those who dropped out or declined in earlier rounds)."""
    gone = set(int(p) for p in people)
    kept = [(u, np.array([p for p in m if int(p) not in gone], dtype=np.int64))
            for u, m in enumerate(units.members)]  # fmt: skip
    kept = [(u, m) for u, m in kept if m.size]
    index = {u: i for i, (u, _) in enumerate(kept)}
    households = tuple(tuple(index[u] for u in group if u in index) for group in units.households)
    return Units(
        tuple(m for _, m in kept),
        units.incidence[[u for u, _ in kept]],
        tuple(g for g in households if len(g) > 1),
    )


def best_subset(
    units: Units,
    capacity: np.ndarray,
    fixed: np.ndarray,
    size: int,
    low: np.ndarray,
    high: np.ndarray,
    effort: float = 10.0,
) -> tuple[int, np.ndarray]:
    """``sortition.engine.subset.best_subset`` over the units (``capacity[u]`` of unit u)."""
    return subset.best_subset(
        units.incidence, capacity, units.households, fixed, size, low, high, effort
    )


@dataclass(frozen=True)
class Scenarios:
    """Sampled dropout scenarios of a panel: who drops out, and the value counts of who stays."""

    dropped: np.ndarray  # (T, k) bool, panel members in id order
    stay_counts: np.ndarray  # (T, V)
    sizes: np.ndarray  # (T,) number of dropouts

    @staticmethod
    def of(instance: Instance, panel: np.ndarray, dropped: np.ndarray) -> Scenarios:
        n_values = len(instance.quotas.rows)
        one_hot = np.zeros((len(panel), n_values), dtype=np.int64)
        for i, p in enumerate(panel):
            one_hot[i, instance.pool.values[p]] = 1
        stay_counts = (~dropped).astype(np.int64) @ one_hot
        return Scenarios(dropped, stay_counts, dropped.sum(axis=1).astype(np.int64))


def losses(
    units: Units,
    chosen: np.ndarray,
    scenarios: Scenarios,
    low: np.ndarray,
    high: np.ndarray,
) -> np.ndarray:
    """(T,) the deviation after the best subset of the alternates ``chosen`` (count per unit)
    replaces each scenario's dropouts; identical scenarios (same counts, same size) are solved
    once."""
    budget = int(chosen.sum())
    cache: dict[tuple[int, ...], int] = {}
    out = np.zeros(len(scenarios.sizes), dtype=np.int64)
    for t in range(len(scenarios.sizes)):
        fixed = scenarios.stay_counts[t]
        size = min(int(scenarios.sizes[t]), budget)
        key = (size, *fixed.tolist())
        if key not in cache:
            if size == 0:
                cache[key] = deviation(fixed, low, high)
            else:
                cache[key] = best_subset(units, chosen, fixed, size, low, high)[0]
        out[t] = cache[key]
    return out


def scaled_quota_set(
    instance: Instance, units: Units, budget: int, effort: float = 30.0
) -> np.ndarray:
    """The first baseline: A alternates meeting the quotas scaled by A/k as nearly as possible."""
    k = instance.k
    low = np.floor(instance.quotas.mins * budget / k).astype(np.int64)
    high = np.ceil(instance.quotas.maxs * budget / k).astype(np.int64)
    fixed = np.zeros(len(low), dtype=np.int64)
    return best_subset(units, units.capacity, fixed, budget, low, high, effort)[1]


def _distances(instance: Instance, panel: np.ndarray, units: Units) -> np.ndarray:
    """(k, U) how many values each panel member and each unit differ in."""
    n_features = instance.pool.values.shape[1]
    member = np.zeros((len(panel), units.incidence.shape[1]), dtype=np.int64)
    for i, p in enumerate(panel):
        member[i, instance.pool.values[p]] = 1
    return n_features - member @ units.incidence.T


def nearest_neighbour_set(
    instance: Instance,
    panel: np.ndarray,
    units: Units,
    stay: np.ndarray,
    budget: int,
    stream: SeededStream,
) -> np.ndarray:
    """The second baseline: for each of the ``budget`` members most likely to drop out (ties in
    a seeded order), a candidate with the fewest differing values (ties: the seeded stream),
    each candidate used once (and one per household)."""
    order = list(range(len(panel)))
    stream.shuffle(order)
    order.sort(key=lambda i: stay[i])  # stable: the shuffle breaks ties
    distance = _distances(instance, panel, units)
    left = units.capacity.copy()
    household_of = {u: h for h, group in enumerate(units.households) for u in group}
    used_households: set[int] = set()
    chosen = np.zeros(units.n_units, dtype=np.int64)
    for i in order[: min(budget, int(left.sum()))]:
        open_units = [
            u
            for u in range(units.n_units)
            if left[u] > 0 and household_of.get(u, -1 - u) not in used_households
        ]
        if not open_units:
            break
        best = min(int(distance[i, u]) for u in open_units)
        u = stream.choice([u for u in open_units if distance[i, u] == best])
        chosen[u] += 1
        left[u] -= 1
        if u in household_of:
            used_households.add(household_of[u])
    return chosen


def shortlist(
    instance: Instance,
    panel: np.ndarray,
    units: Units,
    stay: np.ndarray,
    keep: Sequence[np.ndarray],
    size: int = SHORTLIST,
) -> np.ndarray:
    """The units the optimal model may choose: scored by the members' dropout probability times
    1 for their own type and 1/3 for a type one value away, best first; every unit of ``keep``
    (the baselines' sets) is in."""
    distance = _distances(instance, panel, units)
    weight = np.where(distance == 0, 1.0, np.where(distance == 1, 1.0 / 3.0, 0.0))
    score = (1.0 - stay) @ weight
    # a little for plain size, so that large types come before rare ones at equal score
    score = score + 1e-6 * np.minimum(units.capacity, 10)
    ranked = sorted(range(units.n_units), key=lambda u: (-score[u], u))
    chosen = set(ranked[:size])
    for counts in keep:
        chosen |= {int(u) for u in np.flatnonzero(counts)}
    return np.array(sorted(chosen), dtype=np.int64)


@dataclass(frozen=True)
class ErmResult:
    chosen: np.ndarray  # count of each unit
    objective: int  # summed deviation over the training scenarios
    bound: float  # CP-SAT's lower bound on it
    optimal: bool
    seconds: float


def optimal_set(
    units: Units,
    allowed: np.ndarray,
    scenarios: Scenarios,
    low: np.ndarray,
    high: np.ndarray,
    budget: int,
    hint: np.ndarray,
    effort: float = DEFAULT_EFFORT,
) -> ErmResult:
    """Empirical risk minimisation over the training scenarios (one CP-SAT model), from the
    ``hint`` set (its best subsets per scenario complete the hint)."""
    started = time.perf_counter()
    model = cp_model.CpModel()
    capacity = units.capacity
    x = {int(u): model.new_int_var(0, int(capacity[u]), "") for u in allowed}
    model.add(sum(x.values()) == budget)
    for group in units.households:
        inside = [x[u] for u in group if u in x]
        if len(inside) > 1:
            model.add(sum(inside) <= 1)
    terms = []
    hint_y: list[tuple[cp_model.IntVar, int]] = []
    total = 0
    for t in range(len(scenarios.sizes)):
        size = min(int(scenarios.sizes[t]), budget)
        fixed = scenarios.stay_counts[t]
        if size == 0:
            total += deviation(fixed, low, high)
            continue
        y = {u: model.new_int_var(0, int(capacity[u]), "") for u in x}
        for u, var in y.items():
            model.add(var <= x[u])
        model.add(sum(y.values()) == size)
        counts = [
            int(fixed[v]) + sum(y[u] * 1 for u in y if units.incidence[u, v])
            for v in range(len(low))
        ]
        bound = int(fixed.sum()) + size + int(high.max(initial=0)) + int(low.max(initial=0)) + 1
        terms += deviation_terms(model, counts, low, high, bound)
        _, best = best_subset(units, hint, fixed, size, low, high)
        hint_y += [(var, int(best[u])) for u, var in y.items()]
    model.minimize(sum(terms) + total)
    for u, var in x.items():
        model.add_hint(var, int(hint[u]))
    for var, value in hint_y:
        model.add_hint(var, value)
    solver = subset_solver(effort, portfolio=True)
    status = solve_cp_sat(solver, model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ErmResult(hint.copy(), -1, math.nan, False, time.perf_counter() - started)
    chosen = np.zeros(units.n_units, dtype=np.int64)
    for u, var in x.items():
        chosen[u] = solver.value(var)
    log.debug(
        "alternates: ERM objective %s, bound %s, %s, %.1f s",
        solver.objective_value,
        solver.best_objective_bound,
        solver.status_name(status),
        time.perf_counter() - started,
    )
    return ErmResult(
        chosen,
        round(solver.objective_value),
        float(solver.best_objective_bound),
        status == cp_model.OPTIMAL,
        time.perf_counter() - started,
    )


def _greedy_losses(
    sets: np.ndarray, stay_counts: np.ndarray, sizes: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """(W, T) deviations when, for each of W candidate sets (W, n, V: the n alternates' values)
    and each scenario, the dropouts are replaced greedily: one alternate at a time, the one that
    leaves the smallest deviation (ties: the first). A fast estimate of ``losses`` for the
    search; the figures reported use the exact ``losses``."""
    n_sets, n = sets.shape[0], sets.shape[1]
    counts = np.broadcast_to(stay_counts, (n_sets, *stay_counts.shape)).copy()  # W, T, V
    slots = np.minimum(sizes, n)
    used = np.zeros((n_sets, len(sizes), n), dtype=bool)
    rows_w, rows_t = np.indices((n_sets, len(sizes)))
    columns = sets.transpose(0, 2, 1).astype(np.float32)  # W, V, n
    for step in range(int(slots.max(initial=0))):
        active = slots > step  # (T,)
        # adding one person with value v changes the deviation by -1 below the min, +1 at or
        # above the max, 0 between: the change of adding alternate j is a sum over its values
        delta = (counts >= high).astype(np.float32) - (counts < low).astype(np.float32)
        change = np.matmul(delta, columns)  # W, T, n
        change[used] = np.inf
        pick = change.argmin(axis=-1)  # W, T
        added = sets[rows_w, pick]  # W, T, V
        counts += added * active[None, :, None]
        used[rows_w, rows_t, pick] |= active[None, :]
    return (np.maximum(low - counts, 0) + np.maximum(counts - high, 0)).sum(axis=-1)


def local_search(
    units: Units,
    allowed: np.ndarray,
    scenarios: Scenarios,
    low: np.ndarray,
    high: np.ndarray,
    start: np.ndarray,
    passes: int = 6,
) -> np.ndarray:
    """Improve the set ``start`` (count per unit) on the training scenarios by swaps: each
    alternate in turn is replaced by the allowed unit that lowers the (greedy) total deviation
    most, until a pass changes nothing. Deterministic (ties: the lower unit)."""
    household_of = {u: h for h, group in enumerate(units.households) for u in group}
    items = [int(u) for u in np.flatnonzero(start) for _ in range(int(start[u]))]
    capacity = units.capacity
    incidence = units.incidence
    stay, sizes = scenarios.stay_counts, scenarios.sizes

    def total(sets: list[list[int]]) -> np.ndarray:
        batch = incidence[np.array(sets, dtype=np.int64)]
        return _greedy_losses(batch, stay, sizes, low, high).sum(axis=1)

    current = int(total([items])[0])
    for _ in range(passes):
        changed = False
        for i in range(len(items)):
            held = np.bincount(items, minlength=units.n_units)
            shared = {household_of[u] for j, u in enumerate(items) if j != i and u in household_of}
            options = [
                int(w)
                for w in allowed
                if w != items[i]
                and held[w] < capacity[w]
                and household_of.get(int(w), -1) not in shared
            ]
            if not options:
                continue
            sets = [[*items[:i], w, *items[i + 1 :]] for w in options]
            values = total(sets)
            best = int(values.argmin())
            if int(values[best]) < current:
                items[i], current, changed = options[best], int(values[best]), True
        if not changed:
            break
    return np.bincount(items, minlength=units.n_units).astype(np.int64)


def people_of(units: Units, chosen: np.ndarray, stream: SeededStream) -> np.ndarray:
    """The people a unit count vector names: ``chosen[u]`` of unit u's members (in id order),
    drawn with the stream, units in order."""
    people: list[int] = []
    for u in np.flatnonzero(chosen):
        people += stream.sample([int(p) for p in units.members[int(u)]], int(chosen[u]))
    return np.array(sorted(people), dtype=np.int64)


METHODS = ("optimal", "scaled quotas", "nearest neighbour")


@dataclass(frozen=True)
class Figures:
    """A set's deviation after the best subset replaces the dropouts, over fresh scenarios."""

    mean: float
    zero_share: float  # scenarios fully restored (deviation 0)
    worst: int

    @staticmethod
    def of(values: np.ndarray) -> Figures:
        return Figures(
            float(values.mean()), float((values == 0).mean()), int(values.max(initial=0))
        )

    def as_record(self) -> dict[str, float | int]:
        return {"mean_deviation": self.mean, "restored_share": self.zero_share, "worst": self.worst}


@dataclass(frozen=True)
class AlternatesChoice:
    """What ``derive_alternates`` gives: each method's people and figures, and what it took."""

    people: dict[str, np.ndarray]  # method -> canonical person indices
    figures: dict[str, Figures]  # "no alternates" and each method
    bound: float | None  # CP-SAT's lower bound on the training total (with effort)
    seconds: dict[str, float]


def derive_alternates(
    instance: Instance,
    panel: np.ndarray,
    gone: np.ndarray,
    budget: int,
    stay: np.ndarray,
    seed: str,
    scenarios: int,
    evaluation: int,
    effort: float,
    size: int = SHORTLIST,
) -> AlternatesChoice:
    """The whole choice from its inputs, so that ``alternates`` and ``verify`` run the same steps:
    training scenarios from the stream ``alternates-training:SEED``, the two baselines (ties and
    naming from ``alternates:SEED``), the local search from the better baseline, CP-SAT for
    ``effort``, and the figures on scenarios from ``alternates-evaluation:SEED``. ``gone``:
    people who dropped out or declined earlier in the chain (never alternates)."""
    units = candidate_units(instance, panel)
    if gone.size:
        units = without_people(units, gone)
    low, high = instance.quotas.mins, instance.quotas.maxs
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    training = draw_scenarios(stay, scenarios, SeededStream(f"alternates-training:{seed}"))
    train = Scenarios.of(instance, panel, training)
    stream = SeededStream(f"alternates:{seed}")
    sets = {
        "scaled quotas": scaled_quota_set(instance, units, budget),
        "nearest neighbour": nearest_neighbour_set(instance, panel, units, stay, budget, stream),
    }
    seconds["baselines"] = time.perf_counter() - started
    started = time.perf_counter()
    allowed = shortlist(instance, panel, units, stay, list(sets.values()), size)
    start = min(sets.values(), key=lambda s: int(losses(units, s, train, low, high).sum()))
    chosen = local_search(units, allowed, train, low, high, start)
    bound = None
    if effort > 0:
        erm = optimal_set(units, allowed, train, low, high, budget, chosen, effort)
        chosen, bound = erm.chosen, erm.bound
    sets = {"optimal": chosen, **sets}
    seconds["optimal"] = time.perf_counter() - started
    started = time.perf_counter()
    fresh_scenarios = draw_scenarios(
        stay, evaluation, SeededStream(f"alternates-evaluation:{seed}")
    )
    fresh = Scenarios.of(instance, panel, fresh_scenarios)
    figures = {"no alternates": Figures.of(losses(units, np.zeros_like(chosen), fresh, low, high))}
    for method, counts in sets.items():
        figures[method] = Figures.of(losses(units, counts, fresh, low, high))
    seconds["comparison"] = time.perf_counter() - started
    people = {method: people_of(units, counts, stream) for method, counts in sets.items()}
    return AlternatesChoice(people, figures, bound, seconds)
