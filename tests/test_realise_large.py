"""The realising master on large pools: a walk's own weights (Carathéodory's decomposition)
become the distribution when they meet the target, panels are kept compactly, and a master's
probabilities need no dense matrix of its panels."""

from __future__ import annotations

import numpy as np
import pytest

from sortition.engine import levels, master, realise, walks
from sortition.engine.leximin import leximin
from sortition.engine.master import MasterLP, PanelKeys, compact_panel, mixture
from sortition.engine.maximin import maximin
from sortition.engine.walks import face_walk
from sortition.units import UnitInstance, from_people
from tests.brute_force import (
    brute_leximin,
    brute_panels,
    feasible_cases,
    person_probability,
    random_case,
    random_mix,
    random_people,
)


def _mix_case(seed: int) -> tuple[UnitInstance, np.ndarray] | None:
    return random_mix(seed, 9100)


def test_a_walks_weights_decompose_its_target() -> None:
    """Each panel's weight is what the walk gave it: positive, summing to at most 1, and where
    the walk ran to its end (weight left below 1e-7) the mixture is the target."""
    ended = 0
    for _, (inst, target) in feasible_cases(range(20), _mix_case, floor=12):
        weights: list[float] = []
        panels = face_walk(inst, target, weights=weights)
        assert len(weights) == len(panels)
        w = np.asarray(weights)
        assert (w > 0).all() and w.sum() <= 1.0 + 1e-12
        if 1.0 - w.sum() < 1e-7:
            ended += 1
            mix = w @ np.asarray(panels, dtype=np.float64)
            assert np.abs(mix - target).max() <= 1e-6, (mix, target)
    assert ended >= 6


def test_panels_are_kept_compactly_and_keyed_by_their_counts() -> None:
    small = compact_panel(np.array([0, 3, 150], dtype=np.int64))
    assert small.dtype == np.int16 and small.tolist() == [0, 3, 150]
    big = compact_panel(np.array([0, 40_000], dtype=np.int64))
    assert big.dtype == np.int32 and big.tolist() == [0, 40_000]
    keys = PanelKeys()
    keys.add(np.array([1, 0, 2], dtype=np.int64).tobytes())
    assert np.array([1, 0, 2], dtype=np.int16).astype(np.int64).tobytes() in keys
    assert np.array([1, 2, 0], dtype=np.int64).tobytes() not in keys
    assert "not bytes" not in keys and len(keys) == 1


@pytest.mark.parametrize("limit", [10_000, 0])
def test_the_mixture_is_the_dense_product(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    """Either road (one dense product on small pools, blocks of panels above
    TIGHT_MASTER_UP_TO units) gives sum_j lam_j * panel_j."""
    monkeypatch.setattr(master, "TIGHT_MASTER_UP_TO", limit)
    rng = np.random.default_rng(5)
    panels = [compact_panel(rng.integers(0, 4, 50)) for _ in range(600)]
    lam = rng.dirichlet(np.ones(600))
    lam[::7] = 0.0
    dense = lam @ np.asarray(panels, dtype=np.float64)
    assert np.allclose(mixture(panels, lam, 50), dense, rtol=1e-13, atol=1e-13)


def test_a_master_with_adopted_weights_takes_no_more_columns() -> None:
    rng = np.random.default_rng(4242)
    while True:
        values, vmin, vmax, fov, hh, k = random_people(rng, 10, False)
        panels = brute_panels(values, vmin, vmax, hh, k)
        if len(panels) > 1:
            break
    inst, _ = from_people(values, vmin, vmax, fov, hh, k, by_type=False)
    lp = MasterLP(inst)
    lp.adopt(list(panels[:2]), np.array([0.25, 0.75]))
    assert lp.weights().tolist() == [0.25, 0.75]
    assert all(p.dtype == np.int16 for p in lp.panels)
    expected = (0.25 * panels[0] + 0.75 * panels[1]) / inst.capacity
    assert np.allclose(lp.probabilities(), expected)
    assert panels[0].astype(np.int64).tobytes() in lp.keys
    with pytest.raises(RuntimeError):
        lp.add_column(panels[1])


def _leximin_case(seed: int) -> tuple[UnitInstance, np.ndarray, np.ndarray] | None:
    return random_case(np.random.default_rng(1000 + seed), seed, by_type=False)


def _count_adoptions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A counter (its one item) of the masters that adopt a walk's own weights."""
    adopted = [0]
    adopt = MasterLP.adopt

    def counting(self: MasterLP, panels: list[np.ndarray], weights: np.ndarray) -> None:
        adopted[0] += 1
        adopt(self, panels, weights)

    monkeypatch.setattr(MasterLP, "adopt", counting)
    return adopted


def test_leximin_from_a_walks_own_weights_is_leximin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forced on small pools, the road of large pools (a walk's own weights when their z is
    at least WALK_MET, no LP over its columns) still gives the brute-force LEXIMIN, and it is
    taken."""
    monkeypatch.setattr(realise, "_PRESOLVE_ROWS", 0)
    adopted = _count_adoptions(monkeypatch)
    for _, (inst, unit, panels) in feasible_cases(range(25), _leximin_case, floor=12):
        dist = leximin(inst)
        assert abs(dist.weights.sum() - 1.0) < 1e-9 and (dist.weights > 0).all()
        assert len({row.tobytes() for row in dist.panels}) == len(dist.panels)
        for panel in dist.panels:
            assert inst.is_feasible_panel(panel)
        got = person_probability(dist, unit)
        expected = brute_leximin(panels)
        assert np.allclose(got, expected, atol=2e-6), (got, expected)
        assert dist.certificate is not None and dist.certificate.gap <= 2e-6
    assert adopted[0] >= 5


def test_maximin_from_a_walks_own_weights_is_maximin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forced on small pools, MAXIMIN's road of large pools (a walk's own weights when their
    smallest probability is WALK_MET of the relaxation's bound, no LP over its panels) still
    gives the brute-force smallest probability, certified, and it is taken."""
    monkeypatch.setattr(levels, "ADOPT_ABOVE", 0)
    adopted = _count_adoptions(monkeypatch)
    for _, (inst, unit, panels) in feasible_cases(range(25), _leximin_case, floor=12):
        dist = maximin(inst)
        assert abs(dist.weights.sum() - 1.0) < 1e-9 and (dist.weights > 0).all()
        for panel in dist.panels:
            assert inst.is_feasible_panel(panel)
        got = person_probability(dist, unit).min()
        expected = brute_leximin(panels).min()
        assert abs(got - expected) <= 2e-6 * expected, (got, expected)
        assert dist.certificate is not None and dist.certificate.gap <= 2e-6
    assert adopted[0] >= 5


def test_the_largest_values_are_the_stable_sorts_first() -> None:
    """``walks._largest`` (a partition, then a sort of the values at or above the cut) picks
    what the stable sort of every value picked, ties and -inf included."""
    rng = np.random.default_rng(11)
    for size, count in ((1, 1), (7, 3), (500, 40), (2000, 800), (30, 30), (30, 45)):
        values = rng.integers(-3, 4, size).astype(np.float64)
        values[rng.random(size) < 0.2] = -np.inf
        expected = np.argsort(-values, kind="stable")[:count]
        assert walks._largest(values, count).tolist() == expected.tolist()


@pytest.mark.parametrize("limit", [10_000, 0])
def test_value_counts_are_the_incidence_product(
    monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    monkeypatch.setattr(walks, "_SMALL_MODEL_ABOVE", limit)
    for _, (inst, target) in feasible_cases(range(6), _mix_case, floor=3):
        counts = walks._ValueCounts(inst)
        assert (counts.dense is None) == (limit == 0)
        expected = inst.incidence.astype(np.float64) @ target
        assert np.allclose(counts @ target, expected, rtol=1e-13, atol=1e-12)


def test_a_walk_from_where_the_last_one_left_weight_completes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A walk stopped with weight left reports its last point (``rest``); a walk from there,
    its weights times the weight left, completes the decomposition (``Walks.rest_walk``)."""
    completed = 0
    for _, (inst, target) in feasible_cases(range(30), _mix_case, floor=12):
        monkeypatch.setattr(walks, "_SMALLEST_WEIGHT", 0.3)
        first: list[float] = []
        rest: list[np.ndarray] = []
        panels = face_walk(inst, target, weights=first, rest=rest)
        left = 1.0 - sum(first)
        if not rest:
            assert left < 1e-12  # the walk ended on a panel: nothing left
            continue
        assert left > 0.0
        monkeypatch.setattr(walks, "_SMALLEST_WEIGHT", 1e-7)
        second: list[float] = []
        more = face_walk(inst, rest[0], weights=second)
        if 1.0 - sum(second) >= 1e-7:
            continue
        completed += 1
        w = np.concatenate([first, left * np.asarray(second)])
        mix = w @ np.asarray(panels + more, dtype=np.float64)
        assert np.abs(mix - target).max() <= 1e-6, (mix, target)
    assert completed >= 3


@pytest.mark.parametrize("close_above", [0, 10**9])
def test_a_walk_close_to_its_target_is_adopted_only_on_the_largest_pools(
    monkeypatch: pytest.MonkeyPatch, close_above: int
) -> None:
    """A walk whose own weights miss WALK_MET (here: always) is adopted when its z is at least
    WALK_CLOSE on pools of more than _CLOSE_ABOVE active units, and its certificate states the
    gap of the panels it publishes; below that size the master takes over as before. Either
    way the brute-force LEXIMIN."""
    monkeypatch.setattr(realise, "_PRESOLVE_ROWS", 0)
    monkeypatch.setattr(realise, "WALK_MET", 2.0)
    monkeypatch.setattr(realise, "_CLOSE_ABOVE", close_above)
    adopted = _count_adoptions(monkeypatch)
    checked = 0
    for _, (inst, unit, panels) in feasible_cases(range(25), _leximin_case, floor=12):
        dist = leximin(inst)
        got = person_probability(dist, unit)
        assert np.allclose(got, brute_leximin(panels), atol=2e-6)
        cert = dist.certificate
        assert cert is not None and cert.gap <= 1e-5
        selectable = dist.unit_probability[dist.unit_probability > 0]
        smallest = float(selectable.min())
        assert cert.value == pytest.approx(smallest, rel=1e-12)
        assert cert.gap == pytest.approx(max(0.0, cert.bound - smallest) / cert.bound, abs=1e-12)
        checked += 1
    assert checked >= 5
    assert (adopted[0] >= 5) if close_above == 0 else (adopted[0] == 0)
