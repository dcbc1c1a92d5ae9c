"""Covering under a diversity bound by neighbourhoods (docs/diversity.md, "Covering").

With ``--diversity-within`` the covering must put every type that is on some panel within the
bound on one of the master's first panels. Under a 10 % slack over the best score almost every
type is on such a panel (ces11_k60: forcing one type in costs about 1 % of the score), so the cost
lies in *finding* the panels, and a CP-SAT search over the whole pool took 2 to 14 s for each.

Here each search frees only a neighbourhood: a panel known to meet the bound (the most diverse
one, then the panels found so far), the uncovered types near it, and holds every other type at 0.
The small model (``restricted``) is the panel model of the instance restricted to those types:
the quota rows and households over them, and the bound's rows, each cell that no free type fills
being a constant. It asks for as many uncovered types as it can hold (at least one), and its
panel is checked against the whole instance, quotas and bound exactly. What the neighbourhoods do
not cover is left to the whole-pool search (``columns.cover``), which alone proves a type on no
panel within the bound. The panels differ from a whole-pool covering's, but which types are
selectable does not: a type is declared never selectable only by the whole-pool proof.

Deterministic: one worker, a fixed seed, budgets in CP-SAT's deterministic time, types and panels
taken in index order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

from sortition.cancel import solve_cp_sat
from sortition.engine.diversity import unit_value_rows
from sortition.engine.errors import TimeLimitReached
from sortition.engine.master import Clock
from sortition.engine.pricing import panel_model
from sortition.units import DiversityLimit, UnitInstance

# CP-SAT's deterministic budget for one neighbourhood's search.
_BUDGET = 0.2
# The uncovered types one neighbourhood offers beside its base panel's types (the nearest first).
_OFFER = 40
# The radii (features in which an uncovered type differs from the target) tried in turn.
_RADII = (1, 2)
# Swaps (and two-swap moves) scored at a time: bounds the memory on large pools.
_CHUNK = 8192
# Two-swap moves of one unit checked at most (moves out × in × out), else none is tried.
_DOUBLE_MOST = 20_000_000
# The double swaps tried for a unit (the least score first) before the households rule it out.
_DOUBLE_TRIES = 20
# CP-SAT's settings for the small search: its strongest LP (the bound's secant rows make it
# tight), no presolve (measured on ces11_k60: 40 types covered in 9.5 s of CPU against 15.4 s
# with presolve and 12.8 s with neither).
_PARAMS: dict[str, object] = {"linearization_level": 2, "cp_model_presolve": False}


@dataclass
class NeighbourhoodTally:
    """What the neighbourhood covering did: searches, panels found, seconds."""

    chains: int = 0
    chain_seconds: float = 0.0
    doubles: int = 0
    double_seconds: float = 0.0
    searches: int = 0
    panels: int = 0
    seconds: float = 0.0


def restricted(inst: UnitInstance, free: np.ndarray) -> UnitInstance:
    """``inst`` over the units ``free`` alone (ascending), every other unit's count held at 0:
    the same quotas and panel size, the households' members among ``free``, and the diversity
    bound with each cell that no free unit fills taken as the constant it then is."""
    limit = inst.diversity
    assert limit is not None
    position = np.full(inst.n_units, -1, dtype=np.int64)
    position[free] = np.arange(len(free))
    households = tuple(
        tuple(int(position[u]) for u in h if position[u] >= 0)
        for h in inst.households
        if int((position[list(h)] >= 0).sum()) >= 2
    )
    members = limit.members[:, free]
    kept = members.any(axis=1)
    dropped = limit.multiplier[~kept]
    # an empty cell's deviation is |0 - k| = k, weighted by scale / cells
    fixed = int(((limit.scale // dropped) * limit.k).sum())
    panel = None if limit.panel is None else limit.panel[free]
    sub_limit = DiversityLimit(
        members=members[kept],
        multiplier=limit.multiplier[kept],
        k=limit.k,
        scale=limit.scale,
        limit=limit.limit - fixed,
        panel=panel,
    )
    return replace(
        inst,
        capacity=inst.capacity[free],
        incidence=inst.incidence[:, free],
        households=households,
        diversity=sub_limit,
    )


def neighbourhood_panel(
    inst: UnitInstance,
    base: np.ndarray,
    target: int,
    offer: np.ndarray,
    *,
    seed: int,
    budget: float,
    clock: Clock,
) -> np.ndarray | None:
    """A panel within the bound with ``target`` on it and as many of ``offer`` as CP-SAT finds
    room for in its budget, moving only the counts of ``base``'s units, ``target`` and ``offer``
    (every other count 0); None if it finds none. ``base`` (counts) meets the bound."""
    assert inst.diversity is not None
    free = np.union1d(np.union1d(np.flatnonzero(base), offer), [target]).astype(np.int64)
    sub = restricted(replace(inst, diversity=replace(inst.diversity, panel=base)), free)
    built = panel_model(sub)
    model = built.model
    x = built.vars
    where = {int(u): i for i, u in enumerate(free.tolist())}
    model.add(x[where[target]] >= 1)
    on = []
    for u in offer.tolist():
        y = model.new_bool_var("")
        model.add(x[where[int(u)]] >= 1).only_enforce_if(y)
        on.append(y)
    if on:
        model.maximize(sum(on))
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers = 1
    p.random_seed = seed
    p.max_deterministic_time = budget
    for key, value in _PARAMS.items():
        setattr(p, key, value)
    if clock.deadline is not None:
        remaining = clock.deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeLimitReached
        p.max_time_in_seconds = remaining
    status = solve_cp_sat(solver, model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    panel = np.zeros(inst.n_units, dtype=np.int64)
    panel[free] = [solver.value(v) for v in x]
    if not inst.is_feasible_panel(panel) or not inst.diversity.allows(panel):
        return None  # (never seen: the small model is the whole one restricted)
    return panel


class SwapChains:
    """Panels within the bound reached from a known one by single swaps (one member of a type
    in, one of a type on the panel out), each checked exactly in numpy: the quotas feature by
    feature, the households, and the score's change, which only the cells of the two types
    see (a type lies in one cell of each intersection).

    A chain starts from the most diverse panel and takes, step after step, the swap that brings
    in an uncovered type at the least score, never taking out a type it brought in, until no
    swap fits; its last panel holds every type it brought in."""

    def __init__(self, inst: UnitInstance) -> None:
        limit = inst.diversity
        assert limit is not None
        self.inst = inst
        self.limit = limit
        self.values = unit_value_rows(inst).T.copy()  # (F, U) each unit's quota row
        # each unit's row (filled cell) in every intersection: the rows are grouped by
        # intersection and every unit is in exactly one cell of each
        unit, row = np.nonzero(limit.members.T)
        self.row_of = row.reshape(inst.n_units, -1).T.copy()  # (I, U)
        assert (unit.reshape(inst.n_units, -1) == np.arange(inst.n_units)[:, None]).all()
        self.household = np.full(inst.n_units, -1, dtype=np.int64)
        for h, members in enumerate(inst.households):
            self.household[list(members)] = h

    def best_swap(
        self, panel: np.ndarray, todo: np.ndarray, kept: np.ndarray
    ) -> tuple[int, int] | None:
        """The swap (unit in, unit out) that brings a ``todo`` unit onto ``panel`` within the
        quotas, the households and the bound at the least score (ties: the lowest indices),
        never taking the last member of a ``kept`` unit out; None if there is none."""
        inst = self.inst
        incoming = np.flatnonzero(todo & (panel < inst.capacity))
        outgoing = np.flatnonzero((panel > 0) & (~kept | (panel > 1)))
        unit_in, unit_out, change = self.moves(panel, incoming, outgoing)
        if not len(change):
            return None
        at = int(np.argmin(change))  # (the first least: the lowest indices, row-major)
        return int(unit_in[at]), int(unit_out[at])

    def moves(
        self,
        panel: np.ndarray,
        incoming: np.ndarray,
        outgoing: np.ndarray,
        wanted: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every swap (one member of an ``incoming`` unit in, one of an ``outgoing`` unit out)
        that keeps ``panel`` within the quotas, the households and the bound, and that
        ``wanted`` (bool, incoming × outgoing) asks for: the units in, the units out and the
        score's change (scaled), in row-major order of (incoming, outgoing)."""
        inst, limit = self.inst, self.limit
        empty = np.zeros(0, dtype=np.int64)
        if not len(incoming) or not len(outgoing):
            return empty, empty, empty
        per_value = inst.incidence.astype(np.int64) @ panel
        up = per_value + 1 <= inst.value_max  # (V,) a value that can take one more
        down = per_value - 1 >= inst.value_min
        vin = self.values[:, incoming][:, :, None]  # (F, I_n, 1)
        vout = self.values[:, outgoing][:, None, :]
        ok = ((vin == vout) | (up[vin] & down[vout])).all(axis=0)
        if wanted is not None:
            ok &= wanted
        occupied = np.zeros(len(inst.households) + 1, dtype=np.int64)
        np.add.at(occupied, self.household, panel)  # (the last slot: no household)
        hin = self.household[incoming]
        ok &= ((hin < 0) | (occupied[hin] == 0))[:, None] | (
            hin[:, None] == self.household[outgoing][None, :]
        )
        if not ok.any():
            return empty, empty, empty
        cells = limit.members.astype(np.int64) @ panel
        now = limit.deviations(cells)
        gain_in = limit.deviations(cells + 1) - now  # (R,)
        gain_out = limit.deviations(cells - 1) - now
        total = int(now.sum())
        # the score's change of each swap the quotas allow (row-major), in chunks so that large
        # pools take little memory
        pair_in, pair_out = np.nonzero(ok)
        kept_in, kept_out, kept_change = [], [], []
        for start in range(0, len(pair_in), _CHUNK):
            pin = incoming[pair_in[start : start + _CHUNK]]
            pout = outgoing[pair_out[start : start + _CHUNK]]
            rin, rout = self.row_of[:, pin], self.row_of[:, pout]
            change = np.where(rin == rout, 0, gain_in[rin] + gain_out[rout]).sum(axis=0)
            within = total + change <= limit.limit
            kept_in.append(pin[within])
            kept_out.append(pout[within])
            kept_change.append(change[within])
        return np.concatenate(kept_in), np.concatenate(kept_out), np.concatenate(kept_change)

    def double_swap(self, panel: np.ndarray, unit: int) -> np.ndarray | None:
        """The panel at the least score within the quotas, households and bound that brings
        ``unit`` in by two swaps (``unit`` in, v out, w in, z out; v and z on ``panel``, w any
        unit), for a unit that no single swap brings in; None if there is none. The quotas are
        checked feature by feature from a table of each feature's values (v, w, z), the score
        from the four units' cells in each intersection."""
        inst, limit = self.inst, self.limit
        cap = inst.capacity
        out = np.flatnonzero(panel > 0)
        ins = np.flatnonzero((panel < cap) & (np.arange(inst.n_units) != unit))
        if not len(out) or not len(ins):
            return None
        if len(out) * len(ins) * len(out) > _DOUBLE_MOST:
            return None  # too many to check in numpy: left to the small searches
        per_value = inst.incidence.astype(np.int64) @ panel
        ok = np.ones((len(out), len(ins), len(out)), dtype=bool)
        n_values = inst.n_values
        for f in range(self.values.shape[0]):
            vf = self.values[f]
            # the count of value x after +unit -a +b -c, for every (a, b, c) of this feature
            present = np.flatnonzero(inst.feature_of_value == f)
            a, b, c = np.meshgrid(present, present, present, indexing="ij")
            good = np.ones(a.shape, dtype=bool)
            for x in present.tolist():
                count = per_value[x] + int(vf[unit] == x) - (a == x) + (b == x) - (c == x)
                good &= (count >= inst.value_min[x]) & (count <= inst.value_max[x])
            index = np.full(n_values, -1, dtype=np.int64)
            index[present] = np.arange(len(present))
            ia, ib = index[vf[out]], index[vf[ins]]
            ok &= good[ia[:, None, None], ib[None, :, None], ia[None, None, :]]
        # z = v needs two members of v on the panel
        same = out[:, None, None] == out[None, None, :]
        ok &= ~same | (panel[out] >= 2)[:, None, None]
        vi, wi, zi = np.nonzero(ok)
        if not len(vi):
            return None
        v, w, z = out[vi], ins[wi], out[zi]
        cells = limit.members.astype(np.int64) @ panel
        total = int(limit.deviations(cells).sum())
        sign = np.array([1, -1, 1, -1])[:, None, None]
        change = np.zeros(len(v), dtype=np.int64)
        for start in range(0, len(v), _CHUNK):
            end = min(start + _CHUNK, len(v))
            rows = np.stack(
                [
                    np.repeat(self.row_of[:, unit][:, None], end - start, axis=1),
                    self.row_of[:, v[start:end]],
                    self.row_of[:, w[start:end]],
                    self.row_of[:, z[start:end]],
                ]
            )  # (4, I, chunk): the four units' cells in each intersection
            for p in range(4):  # each cell once (at its first of the four), its net change
                first = np.ones(rows.shape[1:], dtype=bool)
                for q in range(p):
                    first &= rows[p] != rows[q]
                net = (sign * (rows == rows[p][None])).sum(axis=0)
                r = rows[p]
                delta = limit.deviations(cells[r] + net, r) - limit.deviations(cells[r], r)
                change[start:end] += np.where(first, delta, 0).sum(axis=0)
        within = np.flatnonzero(total + change <= limit.limit)
        for t in within[np.argsort(change[within], kind="stable")][:_DOUBLE_TRIES].tolist():
            candidate = panel.astype(np.int64).copy()
            candidate[unit] += 1
            candidate[v[t]] -= 1
            candidate[w[t]] += 1
            candidate[z[t]] -= 1
            if inst.is_feasible_panel(candidate):  # (the households are checked here)
                return candidate
        return None

    def chain(
        self, start: np.ndarray, todo: np.ndarray, keep: np.ndarray | None = None
    ) -> np.ndarray | None:
        """The last panel of a chain of swaps from ``start`` bringing in ``todo`` units, never
        taking out the last member of a ``keep`` unit; None if not even one swap fits."""
        panel = start.astype(np.int64).copy()
        todo = todo & (panel == 0)
        kept = np.zeros(self.inst.n_units, dtype=bool) if keep is None else keep.copy()
        first = kept.copy()
        while True:
            swap = self.best_swap(panel, todo, kept)
            if swap is None:
                break
            unit_in, unit_out = swap
            panel[unit_in] += 1
            panel[unit_out] -= 1
            kept[unit_in] = True
            todo[unit_in] = False
        if not (kept & ~first).any():
            return None
        assert self.inst.is_feasible_panel(panel)  # every swap was checked exactly
        return panel


def neighbourhood_cover(
    inst: UnitInstance,
    panels: list[np.ndarray],
    todo: np.ndarray,
    *,
    seed: int,
    clock: Clock,
    tally: NeighbourhoodTally | None = None,
    on_panel: Callable[[int, int], None] | None = None,
) -> list[np.ndarray]:
    """Panels within ``inst``'s diversity bound that put the units ``todo`` (bool) on a panel,
    found near ``panels`` (each within the bound); the units they leave out are for the
    whole-pool search. First chains of swaps from the first panel (``SwapChains``), then,
    for each unit still uncovered in index order, a small CP-SAT search around the known panel
    nearest to it (``neighbourhood_panel``). ``on_panel`` hears of each panel found: the panels
    so far (``panels`` and the found) and the units of ``todo`` still on none."""
    started = time.perf_counter()
    tally = tally if tally is not None else NeighbourhoodTally()
    values = unit_value_rows(inst)
    todo = todo.copy()
    found: list[np.ndarray] = []

    def heard() -> None:  # a panel was found: tell ``on_panel``
        if on_panel is not None:
            on_panel(len(panels) + len(found), int(todo.sum()))

    chains = SwapChains(inst)
    starts = list(panels)
    at = 0
    while todo.any() and at < len(starts):
        clock.check()
        panel = chains.chain(starts[at], todo)
        if panel is None:
            at += 1  # no swap from this start brings in an uncovered unit: the next one
            continue
        found.append(panel)
        starts.append(panel)
        todo &= panel == 0
        tally.chains += 1
        heard()
    tally.chain_seconds = time.perf_counter() - started
    # the units no single swap brings in from any start: two swaps from the most diverse panel,
    # each panel found then extended by single swaps
    for target in np.flatnonzero(todo).tolist():
        if not todo[target]:
            continue
        clock.check()
        panel = chains.double_swap(panels[0], target)
        if panel is None:
            continue
        todo &= panel == 0
        extended = chains.chain(panel, todo, keep=panel > panels[0])
        if extended is not None:
            panel = extended
            todo &= panel == 0
        found.append(panel)
        tally.doubles += 1
        heard()
    tally.double_seconds = time.perf_counter() - started - tally.chain_seconds
    known = list(panels) + found
    failed = np.zeros(inst.n_units, dtype=bool)
    for target in np.flatnonzero(todo).tolist():
        if not todo[target] or failed[target]:
            continue
        differ = (values != values[target]).sum(axis=1)
        panel = None
        for radius in _RADII:
            near = np.flatnonzero(todo & (differ <= radius))
            offer = near[np.argsort(differ[near], kind="stable")][:_OFFER]
            offer = offer[offer != target]
            # the base: the known panel holding most units near the target
            base = max(known, key=lambda b: int(((b > 0) & (differ <= 1)).sum()))
            tally.searches += 1
            panel = neighbourhood_panel(
                inst, base, target, offer, seed=seed, budget=_BUDGET, clock=clock
            )
            if panel is not None:
                break
        if panel is None:
            failed[target] = True
            continue
        found.append(panel)
        known.append(panel)
        todo &= panel == 0
        tally.panels += 1
        heard()
    tally.seconds += time.perf_counter() - started
    return found
