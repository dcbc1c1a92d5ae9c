"""The level masters (MAXIMIN, LEXIMIN level by level) solve by GLOP's dual simplex at the
master's tight tolerance above ``levels.DUAL_SIMPLEX_ABOVE`` units and by its default (primal)
simplex up to it; the realising master (``realise``) never takes the dual simplex. Either way
the levels reach the same values."""

from __future__ import annotations

import numpy as np
import pytest

from sortition.engine import goldilocks as goldilocks_module
from sortition.engine import levels, realise
from sortition.engine.errors import NoFeasiblePanel
from sortition.engine.goldilocks import goldilocks
from sortition.engine.leximin import leximin
from sortition.engine.master import GLOP_PARAMS, MasterLP
from sortition.engine.maximin import maximin
from sortition.engine.settings import EngineSettings
from sortition.units import Distribution, UnitInstance, from_people
from tests.brute_force import random_people


def _instance() -> UnitInstance:
    """A random pool of 14 people with households, by type, whose quotas have a panel."""
    rng = np.random.default_rng(515)
    while True:
        values, vmin, vmax, fov, hh, k = random_people(rng, 14, True)
        inst, _ = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
        try:
            maximin(inst)
        except NoFeasiblePanel:
            continue
        return inst


def _recording(monkeypatch: pytest.MonkeyPatch, module: object) -> list[MasterLP]:
    """Record the masters ``module`` builds."""
    built: list[MasterLP] = []

    class Recorded(MasterLP):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            built.append(self)

    monkeypatch.setattr(module, "MasterLP", Recorded)
    return built


def _run(monkeypatch: pytest.MonkeyPatch, above: int) -> tuple[list[Distribution], list, list]:
    monkeypatch.setattr(levels, "DUAL_SIMPLEX_ABOVE", above)
    level_masters = _recording(monkeypatch, levels)
    realising = _recording(monkeypatch, realise)
    inst = _instance()
    results = [
        maximin(inst),
        leximin(inst),  # the realising master
        leximin(inst, settings=EngineSettings(decompose=False)),  # level by level
    ]
    return results, level_masters, realising


@pytest.mark.parametrize(("above", "dual"), [(10**9, False), (0, True)])
def test_the_level_masters_simplex_follows_the_pool_size(
    monkeypatch: pytest.MonkeyPatch, above: int, dual: bool
) -> None:
    results, level_masters, realising = _run(monkeypatch, above)
    assert level_masters and realising
    for lp in level_masters:
        assert lp.params.startswith(GLOP_PARAMS)
        assert ("use_dual_simplex: true" in lp.params) is dual
        # the rows held to 1e-10 either way (small pools by the pool's size, large ones by this)
        assert "primal_feasibility_tolerance: 1e-10" in lp.params
    for lp in realising:
        assert "use_dual_simplex" not in lp.params
    for distribution in results:
        assert distribution.weights.min() > 0 and abs(distribution.weights.sum() - 1.0) < 1e-9


def test_the_dual_simplex_reaches_the_same_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.MonkeyPatch.context() as primal_patch:
        primal, _, _ = _run(primal_patch, 10**9)
    dual, _, _ = _run(monkeypatch, 0)
    for a, b in zip(primal, dual, strict=True):
        assert a.certificate is not None and b.certificate is not None
        assert b.certificate.bound == pytest.approx(a.certificate.bound, abs=1e-9)
        assert b.certificate.value == pytest.approx(a.certificate.value, abs=1e-8)
    # LEXIMIN's vector is unique (MAXIMIN's above the smallest is not)
    for a, b in zip(primal[1:], dual[1:], strict=True):
        assert np.sort(b.unit_probability) == pytest.approx(np.sort(a.unit_probability), abs=1e-7)


def test_goldilocks_h_by_the_dual_simplex_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """GOLDILOCKS's H(l) above the threshold (dual simplex, no presolve) finds the same optimum
    and certificate as at GLOP's defaults."""
    inst = _instance()
    primal = goldilocks(inst)
    monkeypatch.setattr(goldilocks_module, "DUAL_SIMPLEX_ABOVE", 0)
    params: list[str] = []
    model = goldilocks_module.polytope_model

    def spy(inst: UnitInstance, given: str = "") -> object:
        params.append(given)
        return model(inst, given)

    monkeypatch.setattr(goldilocks_module, "polytope_model", spy)
    dual = goldilocks(inst)
    assert params == [goldilocks_module._LARGE_H_PARAMS]
    assert primal.certificate is not None and dual.certificate is not None
    assert dual.certificate.bound == pytest.approx(primal.certificate.bound, rel=1e-9)
    assert dual.certificate.value == pytest.approx(primal.certificate.value, rel=1e-7)
