"""The master LP's primal feasibility tolerance: 1e-10 up to ``TIGHT_MASTER_UP_TO`` units (a
smaller certificate gap), GLOP's default above it (at 1e-10 large masters solved too slowly)."""

from __future__ import annotations

import numpy as np
import pytest

from sortition.engine import master
from sortition.engine.master import MASTER_TOLERANCES, Clock, MasterLP
from sortition.units import UnitInstance, from_people
from tests.brute_force import brute_panels, random_people


def _instance_and_panels() -> tuple[UnitInstance, np.ndarray]:
    rng = np.random.default_rng(4242)
    while True:
        values, vmin, vmax, fov, hh, k = random_people(rng, 10, False)
        panels = brute_panels(values, vmin, vmax, hh, k)
        if len(panels) > 1:
            inst, _ = from_people(values, vmin, vmax, fov, hh, k, by_type=False)
            return inst, panels


@pytest.mark.parametrize(("limit", "tight"), [(10_000, True), (0, False)])
def test_the_tolerance_follows_the_pool_size(
    monkeypatch: pytest.MonkeyPatch, limit: int, tight: bool
) -> None:
    monkeypatch.setattr(master, "TIGHT_MASTER_UP_TO", limit)
    inst, panels = _instance_and_panels()
    lp = MasterLP(inst)
    assert lp.tolerances == (MASTER_TOLERANCES if tight else "")
    assert lp.params.startswith(master.GLOP_PARAMS)
    # either way the master solves to an optimum over the panels
    for panel in panels:
        lp.add_column(panel)
    lp.solve(Clock(None))
    weights = lp.weights()
    assert weights.min() >= -1e-9 and abs(weights.sum() - 1.0) < 1e-8
