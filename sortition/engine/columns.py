"""Where the master's columns (panels) come from, shared by every objective.

- **Covering** (``ColumnGeneration.start``): a feasibility check, then panels until every unit
  that is on some feasible panel is on one of them. The rest are ``never_selectable``: they get
  probability 0 and block nobody.
- **Pricing** (``Pricer``): given the master's duals, improving panels by a cheap swap search
  from the panels in use, and CP-SAT's best panels (``pricing.PanelOracle``) beside them; CP-SAT
  alone proves that no panel improves.
- **Walks** (``Walks``): the panels of face walks through the quota polytope towards a target
  point (``walks.face_walk``), for LEXIMIN's realisation of the relaxation's vector.

``ColumnGeneration`` holds what one run of an objective shares: the instance, the settings, the
clock, the covering, the pricer, the progress callback and the effort counters.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sortition.engine.diversity_cover import neighbourhood_cover
from sortition.engine.diversity_pricing import BoundedNeighbours
from sortition.engine.errors import NoFeasiblePanel
from sortition.engine.master import (
    Clock,
    LpTotals,
    MasterLP,
    finish_distribution,
    smallest_probability_certificate,
)
from sortition.engine.pricing import PanelOracle, PricingResult, SwapSearch
from sortition.engine.relaxation import RelaxedLevel, nearest_polytope_point
from sortition.engine.settings import LARGE_POOL_UNITS, EngineSettings
from sortition.engine.walks import VertexPanels, WalkTally, face_walk
from sortition.errors import N_, Message
from sortition.progress import (
    CoverStep,
    NearestPoint,
    Progress,
    ProgressEvent,
    RelaxationLevel,
    WalkStep,
)
from sortition.units import Certificate, Distribution, UnitInstance

# A panel enters the master when its reduced cost exceeds this (relative to the duals' size).
_RC_TOL = 1e-9
# Improving panels one pricing call may return (benchmarks/README.md: "The engine's levers").
_MAX_COLUMNS_PER_ROUND = 300
# CP-SAT's deterministic-time budget for a covering panel, before it searches to the end.
_COVER_BUDGET = 0.5
# Face walks after the first take each unit's preference times a factor in [1 - j, 1 + j].
_WALK_JITTER = 0.5
# CP-SAT's random seed (one worker: the same inputs give the same panels).
_SEED = 0


@dataclass
class Covering:
    """The covering panels, which units are on some feasible panel, and the oracle that found
    them (which pricing goes on using).

    complete: False after a lazy covering (``cover(lazy=True)`` on a large pool): only the
    feasibility check ran, every unit counts as selectable until ``ColumnGeneration.
    complete_covering`` has looked at the units the objective's panels did not reach."""

    oracle: PanelOracle
    panels: list[np.ndarray]
    selectable: np.ndarray  # bool (U,)
    seconds: float
    complete: bool = True


# Above this many units (the threshold of the walks' small repair models), a lazy covering stops
# after the feasibility check: the walks' panels cover what they reach, and covering searches run
# only for the units still uncovered after the realisation. At realistic7 n = 1,000,000 (40,957
# types) the covering pass alone ran over 1,200 s (benchmarks/README.md, "Latest results").
LAZY_COVER_ABOVE = LARGE_POOL_UNITS


# Told the covering panels so far and the units on none of them not yet proved on no panel.
OnCoverPanel = Callable[[int, int], None]


def cover(
    inst: UnitInstance,
    clock: Clock,
    cheap: bool = True,
    lazy: bool = False,
    on_panel: OnCoverPanel | None = None,
) -> Covering:
    """Feasibility check and covering panels; finds the never-selectable units.

    With ``cheap`` each covering panel is first sought at a vertex of the quota polytope's LP
    that maximises the uncovered units (``walks.VertexPanels``), and CP-SAT is asked only when
    that gives none. With ``lazy``, on a pool of more than ``LAZY_COVER_ABOVE`` units and no
    diversity bound, only the feasibility check runs (``Covering.complete`` False). ``on_panel``
    hears of the feasibility check's panel and of each covering panel. Raises NoFeasiblePanel
    when no panel meets the quotas.
    """
    t0 = time.perf_counter()
    oracle = PanelOracle(inst, seed=_SEED, deadline=clock.deadline)
    limit = inst.diversity
    if limit is not None and limit.panel is not None and inst.is_feasible_panel(limit.panel):
        # under a diversity bound the most diverse panel proves feasibility: no search for one
        assert limit.allows(limit.panel)
        first = PricingResult(0.0, limit.panel.astype(np.int64), 0.0)
    else:
        found = oracle.maximize(np.zeros(inst.n_units))
        if found is None:
            raise NoFeasiblePanel(Message(N_("no feasible panel satisfies the quotas")))
        first = found
    if on_panel is not None:
        on_panel(1, int((first.panel == 0).sum()))
    if lazy and inst.n_units > LAZY_COVER_ABOVE and inst.diversity is None:
        selectable = np.ones(inst.n_units, dtype=bool)
        seconds = time.perf_counter() - t0
        return Covering(oracle, [first.panel], selectable, seconds, complete=False)
    panels = [first.panel]
    if inst.diversity is not None and inst.diversity.panel is not None:
        # under a diversity bound, panels near the most diverse one first: swaps, then small
        # searches (diversity_cover); the loop below covers the rest and proves what is left
        panels.extend(
            neighbourhood_cover(
                inst,
                _distinct([inst.diversity.panel, first.panel]),
                ~(first.panel > 0),
                seed=_SEED,
                clock=clock,
                on_panel=on_panel,
            )
        )
    before = time.perf_counter() - t0
    covering = _cover_rest(inst, clock, oracle, panels, cheap, len(panels), on_panel)
    covering.seconds += before
    return covering


def _distinct(panels: list[np.ndarray]) -> list[np.ndarray]:
    """``panels`` without repeats, in order."""
    out: list[np.ndarray] = []
    for panel in panels:
        if not any(np.array_equal(panel, seen) for seen in out):
            out.append(panel)
    return out


def _cover_rest(
    inst: UnitInstance,
    clock: Clock,
    oracle: PanelOracle,
    panels: list[np.ndarray],
    cheap: bool,
    counted: int,
    on_panel: OnCoverPanel | None = None,
) -> Covering:
    """Covering panels beside ``panels`` until every unit is on one or proved on none; the
    Covering's seconds are this search's. ``on_panel`` hears of each panel found, counted from
    ``counted`` (the covering panels among ``panels``), and of the end."""
    t0 = time.perf_counter()
    given = len(panels)
    covered = np.zeros(inst.n_units, dtype=bool)
    for seen in panels:
        covered |= seen > 0
    panels = list(panels)
    vertices = VertexPanels(inst, _SEED) if cheap and not covered.all() else None
    selectable = np.ones(inst.n_units, dtype=bool)
    # on a large pool CP-SAT's budgeted search never found a covering panel where the LP vertex
    # gave none (realistic7 n = 1,000,000: 22 times out of 22), so it searches to the end at once
    budget = inst.n_units <= LAZY_COVER_ABOVE
    while True:
        clock.check()
        todo = selectable & ~covered
        if not todo.any():
            break
        # Prefer whole units: weight 1 per uncovered unit spread over its capacity. Any panel
        # with an uncovered unit will do, so CP-SAT first gets a small budget; only when that
        # finds none does it search to the end, to prove the rest are on no panel. (On pools with
        # thousands of types, proving each covering panel optimal took 2.3 s a call and all the
        # time.)
        weights = np.where(todo, 1.0 / inst.capacity, 0.0)
        panel = vertices.panel(weights) if vertices is not None else None
        if panel is None or float(weights @ panel) <= 0.0:
            res = oracle.maximize(weights, budget=_COVER_BUDGET) if budget else None
            if res is None or res.value <= 0.0:
                res = _cover_or_prove(oracle, weights, inst.diversity is not None)
            if res.value <= 0.0:
                # a search cut short by the time limit proves nothing
                clock.check()
                selectable &= covered
                break
            panel = res.panel
        panels.append(panel)
        covered |= panel > 0
        if on_panel is not None:
            on_panel(counted + len(panels) - given, int((selectable & ~covered).sum()))
    if on_panel is not None:
        on_panel(counted + len(panels) - given, 0)
    return Covering(
        oracle=oracle, panels=panels, selectable=selectable, seconds=time.perf_counter() - t0
    )


def _cover_or_prove(oracle: PanelOracle, weights: np.ndarray, bounded: bool) -> PricingResult:
    """CP-SAT's panel with the most uncovered units, or the proof that none has any (value 0).

    Under a diversity bound proving the panel optimal took minutes on ces11_k60 and any covering
    panel will do: the search first stops once its panel is within half of its bound (a panel
    then holds uncovered units, or the bound is below the smallest weight, which proves that
    none does); only when neither, it searches to the end."""
    if bounded:
        smallest = float(weights[weights > 0].min())
        res = oracle.maximize(weights, relative_gap=_COVER_GAP)
        assert res is not None
        if res.value > 0.0 or res.bound < smallest:
            return res
    res = oracle.maximize(weights)
    assert res is not None
    return res


# Under a diversity bound, a covering search may stop this far (relative) from its bound.
_COVER_GAP = 0.5


class Pricer:
    """Improving panels for the master's duals: swaps from the panels in use and CP-SAT's best
    panels; CP-SAT alone when the swaps find none, which then proves that none exists."""

    def __init__(self, inst: UnitInstance, oracle: PanelOracle, settings: EngineSettings) -> None:
        self.oracle = oracle
        self.exact_every_round = settings.exact_every_round and inst.diversity is None
        # under a diversity bound, swaps and small searches that keep it (diversity_pricing);
        # CP-SAT over the whole pool only when they find nothing, not every round beside them
        self.swaps: SwapSearch | BoundedNeighbours = (
            SwapSearch(inst) if inst.diversity is None else BoundedNeighbours(inst, oracle)
        )
        self.heuristic_calls = 0
        self.heuristic_columns = 0
        self.heuristic_seconds = 0.0
        # dual smoothing under a diversity bound (``price_smoothed``): the columns it gave, and
        # the rounds whose smoothed panels all failed to improve at the master's duals
        self.smoothed_columns = 0
        self.mispriced = 0

    def price_smoothed(
        self,
        g: np.ndarray,
        theta: float,
        centre: tuple[np.ndarray, float],
        alpha: float,
        master: MasterLP,
    ) -> list[np.ndarray]:
        """Under a diversity bound, Wentges' dual smoothing: the swaps search at the duals
        alpha * centre + (1 - alpha) * (g, theta), and of the panels they find those that improve
        at the master's own duals (empty: none did, and the caller prices at ``g`` as usual, so
        that only the exact pricing at the master's duals ever ends a level). With the centre a
        dual solution of the whole master (a level's relaxation: no panel has a positive
        reduced cost there), every panel improving at the smoothed duals improves at ``g``."""
        scale = max(1.0, abs(theta), float(np.abs(g).max(initial=0.0)) * master.inst.k)
        threshold = theta + _RC_TOL * scale
        smooth_g = alpha * centre[0] + (1.0 - alpha) * g
        smooth_theta = alpha * centre[1] + (1.0 - alpha) * theta
        smooth_scale = max(
            1.0, abs(smooth_theta), float(np.abs(smooth_g).max(initial=0.0)) * master.inst.k
        )
        t0 = time.perf_counter()
        found = self.swaps.improve(
            smooth_g,
            smooth_theta + _RC_TOL * smooth_scale,
            master.used(),
            _MAX_COLUMNS_PER_ROUND,
        )
        self.heuristic_calls += 1
        self.heuristic_seconds += time.perf_counter() - t0
        kept = _fresh([c for c in found if float(g @ c) > threshold], master)
        self.heuristic_columns += len(kept)
        self.smoothed_columns += len(kept)
        self.mispriced += int(bool(found) and not kept)
        return kept

    def price(
        self, g: np.ndarray, theta: float, master: MasterLP
    ) -> tuple[list[np.ndarray], float]:
        """Improving columns not yet in the master (empty: none exists) and the best reduced cost.

        The tolerance is relative to the size of the duals, since NASH's duals are large. CP-SAT
        stops once its bound is within the tolerance of its best panel: if that panel does not
        improve, no panel beats theta by more than twice the tolerance.
        """
        scale = max(1.0, abs(theta), float(np.abs(g).max(initial=0.0)) * master.inst.k)
        threshold = theta + _RC_TOL * scale
        gap = _RC_TOL * scale
        t0 = time.perf_counter()
        found = _fresh(
            self.swaps.improve(g, threshold, master.used(), _MAX_COLUMNS_PER_ROUND), master
        )
        self.heuristic_calls += 1
        self.heuristic_seconds += time.perf_counter() - t0
        if found and self.exact_every_round:
            best = self.oracle.maximize(
                g, threshold=threshold, max_improving=_MAX_COLUMNS_PER_ROUND // 3, gap=gap
            )
            assert best is not None
            found = _fresh(found + _improving(best, threshold), master)
        if found:
            self.heuristic_columns += len(found)
            return found, max(float(g @ c) for c in found) - theta
        res = self.oracle.maximize(
            g, threshold=threshold, max_improving=_MAX_COLUMNS_PER_ROUND, gap=gap
        )
        assert res is not None
        new = _improving(res, threshold)
        if new:
            new.extend(
                self.swaps.improve(
                    g,
                    threshold,
                    [res.panel],
                    _MAX_COLUMNS_PER_ROUND,
                    neighbours=_MAX_COLUMNS_PER_ROUND,
                    max_steps=1,
                )
            )
        # CP-SAT's bound (not the value of its best panel, which may fall short of the optimum
        # by the gap) bounds every reduced cost: NASH's upper bound relies on it.
        return _fresh(new, master), max(res.value, res.bound) - theta


def _fresh(columns: list[np.ndarray], master: MasterLP) -> list[np.ndarray]:
    """The columns not yet in the master, each once, in order."""
    out, seen = [], set()
    for c in columns:
        key = c.astype(np.int64).tobytes()
        if key not in master.keys and key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _improving(res: PricingResult, threshold: float) -> list[np.ndarray]:
    """The panels of a CP-SAT answer that beat the threshold: those met on the way, the best."""
    cols = list(res.improving)
    if res.value > threshold and not any(np.array_equal(res.panel, c) for c in cols):
        cols.append(res.panel)
    return cols


@dataclass
class ColumnGeneration:
    """What one run of an objective shares: built by ``start``, which also covers."""

    inst: UnitInstance
    settings: EngineSettings
    algorithm: str
    progress: Progress | None
    clock: Clock
    covering: Covering
    pricer: Pricer
    lp_totals: LpTotals = field(default_factory=LpTotals)

    @staticmethod
    def start(
        inst: UnitInstance,
        settings: EngineSettings,
        algorithm: str,
        progress: Progress | None,
        time_limit: float | None,
        lazy: bool = False,
    ) -> ColumnGeneration:
        """Start the clock and cover (NoFeasiblePanel when no panel meets the quotas); with
        ``lazy``, a large pool's covering waits for ``complete_covering``."""
        clock = Clock(time_limit)
        covering = cover(
            inst, clock, settings.cheap_steps, lazy, _cover_events(algorithm, progress)
        )
        pricer = Pricer(inst, covering.oracle, settings)
        return ColumnGeneration(inst, settings, algorithm, progress, clock, covering, pricer)

    def complete_covering(self, seen: list[np.ndarray]) -> bool:
        """After a lazy covering: covering panels for the units on none of ``seen`` (the panels
        the objective found), which proves the rest never selectable. True when some unit is
        never selectable, so that what assumed every unit selectable must be redone."""
        covering = self.covering
        if covering.complete:
            return False
        done = _cover_rest(
            self.inst,
            self.clock,
            covering.oracle,
            covering.panels + seen,
            self.settings.cheap_steps,
            len(covering.panels),
            _cover_events(self.algorithm, self.progress),
        )
        # the covering panels are those found here beyond ``seen``, after the first
        covering.panels = covering.panels + done.panels[len(covering.panels) + len(seen) :]
        covering.selectable = done.selectable
        covering.seconds += done.seconds
        covering.complete = True
        return not bool(covering.selectable.all())

    @property
    def active(self) -> np.ndarray:
        """The units on some feasible panel, ascending."""
        return np.flatnonzero(self.covering.selectable)

    def emit(self, event: ProgressEvent) -> None:
        if self.progress is not None:
            self.progress(event)

    def relaxed_level_solved(self, number: int, level: RelaxedLevel, fixed: int) -> None:
        """Report a level of the relaxation (``relaxation.OnLevel``)."""
        units = len(self.active)
        self.emit(RelaxationLevel(self.algorithm, number, level.bound, fixed, units))

    def nearest_point(self, counts: np.ndarray, from_below: bool = False) -> np.ndarray | None:
        """``relaxation.nearest_polytope_point`` within the run's time, reported as it starts
        and ends."""
        self.emit(NearestPoint(self.algorithm, done=False))
        point = nearest_polytope_point(
            self.inst, counts, self.clock.deadline, from_below=from_below
        )
        self.emit(NearestPoint(self.algorithm, done=True))
        return point

    def effort_stats(self, master: MasterLP) -> dict[str, float | int | str]:
        """Where the time went: the statistics every column generation reports."""
        covering, pricer, lp = self.covering, self.pricer, self.lp_totals
        return {
            "initial_columns": len(covering.panels),
            "pricing_calls": covering.oracle.calls,
            "heuristic_calls": pricer.heuristic_calls,
            "heuristic_columns": pricer.heuristic_columns,
            "heuristic_seconds": pricer.heuristic_seconds,
            "pricing_seconds": covering.oracle.seconds,
            "lp_solves": master.lp_solves + lp.solves,
            "lp_seconds": master.lp_seconds + lp.seconds,
            "lp_iterations": master.lp_iterations + lp.iterations,
            "lp_retries": master.retries + lp.retries,
            "master_rebuilds": lp.rebuilds,
            "prepare_seconds": covering.seconds,
            "seconds": self.clock.elapsed(),
        }

    def finish(
        self,
        master: MasterLP,
        stats: dict[str, float | int | str],
        certify: Callable[[np.ndarray], Certificate] | None = None,
    ) -> Distribution:
        """The distribution of the master's last solution, with ``certify``'s certificate."""
        return finish_distribution(
            self.inst,
            master.panels,
            master.weights(),
            self.algorithm,
            stats,
            self.covering.selectable,
            certify,
        )

    def smallest_probability(
        self, bound: float, levels: tuple[float, ...] = ()
    ) -> Callable[[np.ndarray], Certificate]:
        """The certificate of MAXIMIN and LEXIMIN: ``bound`` on the smallest probability."""
        return smallest_probability_certificate(self.covering.selectable, bound, levels)


def _cover_events(algorithm: str, progress: Progress | None) -> OnCoverPanel | None:
    """The covering's panels as ``CoverStep`` events."""
    if progress is None:
        return None
    report = progress

    def on_panel(panels: int, uncovered: int) -> None:
        report(CoverStep(algorithm, panels, uncovered))

    return on_panel


class Walks:
    """Panels from face walks towards a target point (in counts), one walk per call, up to
    ``settings.walks``; the first walk follows the target, later ones jitter it."""

    def __init__(self, run: ColumnGeneration, counts: np.ndarray) -> None:
        self.run = run
        self.counts = counts
        self.done = 0
        self.panels = 0
        self.seconds = 0.0
        self.tally = WalkTally()
        # the last walk's weight of each of its panels (``walks.face_walk``'s ``weights``) and
        # the point where it left weight (its ``rest``), if any
        self.weights = np.zeros(0)
        self.rest: np.ndarray | None = None

    def stats(self) -> dict[str, float | int | str]:
        """What the walks did, for the distribution's statistics."""
        return {
            "walks": self.done,
            "walk_panels": self.panels,
            "walk_lp_panels": self.tally.lp_panels,
            "walk_seconds": self.seconds,
        }

    def next(self) -> list[np.ndarray]:
        """The next walk's panels; empty once every walk has been taken."""
        run = self.run
        if self.done >= run.settings.walks:
            return []
        walk = self.done + 1

        def on_step(taken: int) -> None:
            run.emit(WalkStep(run.algorithm, walk, taken))

        panels, weights = self._walk(
            self.counts,
            seed=_SEED + self.done,
            jitter=_WALK_JITTER if self.done else 0.0,
            on_step=on_step,
        )
        self.weights = weights
        self.done += 1
        return panels

    def rest_walk(self) -> list[np.ndarray]:
        """The panels of a walk from the point where the last walk left weight, their weights
        (times that weight) added to ``weights``; empty when no weight was left. Its own error
        is then a share of the weight left: realistic7 n = 10,000, 974 panels left 9.9e-8 of
        the weight and their z was 1 - 3.0e-7 (``realise``)."""
        left = 1.0 - float(self.weights.sum())
        if self.rest is None or left <= 0.0:
            return []
        panels, weights = self._walk(self.rest, seed=_SEED)
        self.weights = np.concatenate([self.weights, left * weights])
        return panels

    def _walk(
        self,
        counts: np.ndarray,
        *,
        seed: int,
        jitter: float = 0.0,
        on_step: Callable[[int], None] | None = None,
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """One face walk towards ``counts``: its panels and their weights; keeps where it left
        weight (``rest``) and counts its panels and seconds."""
        run = self.run
        started = time.perf_counter()
        weights: list[float] = []
        rest: list[np.ndarray] = []
        panels = face_walk(
            run.inst,
            counts,
            deadline=run.clock.deadline,
            seed=seed,
            jitter=jitter,
            on_step=on_step,
            cheap=run.settings.cheap_steps,
            tally=self.tally,
            weights=weights,
            rest=rest,
        )
        self.rest = rest[0] if rest else None
        self.panels += len(panels)
        self.seconds += time.perf_counter() - started
        run.clock.check()
        return panels, np.asarray(weights, dtype=np.float64)
