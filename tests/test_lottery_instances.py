"""--panels M on the four runnable instances: select, then verify, for M = 10, 100 and 1000.

The distribution is computed once per instance; each M is committed, drawn and verified with the
library calls that ``select`` and ``verify`` make."""

from __future__ import annotations

from functools import cache

import pytest

from sortition.engine.objectives import PoolDistribution, fair_distribution
from sortition.record.build import needs_a_panel
from sortition.seeds import Seed
from sortition.selection.service import LoadedInput, commit_distribution, draw_selection, load_input
from sortition.verify.items import VerifyRequest
from sortition.verify.selection import verify_selection
from tests.helpers import runnable_instance

# LEXIMIN alone takes about 17 s on ces11_k60 (slow); on gss_k150 3 s, then 3-7 s a lottery.
SLOW = {"ces11_k60"}


@cache
def _fair(name: str) -> tuple[LoadedInput, PoolDistribution]:
    case = runnable_instance(name)
    loaded = load_input(case.pool, case.quotas, case.k)
    return loaded, fair_distribution(loaded.instance, "leximin")


def _cases() -> list[object]:
    return [
        pytest.param(name, m, id=f"{name}-{m}", marks=(pytest.mark.slow,) if name in SLOW else ())
        for name in ("example_small_20", "example_large_200", "gss_k150", "ces11_k60")
        for m in (10, 100, 1000)
    ]


@pytest.mark.parametrize(("name", "m"), _cases())
def test_lottery_verifies(name: str, m: int) -> None:
    loaded, fair = _fair(name)
    commitment = commit_distribution(loaded, "leximin", fair, m)
    selection = draw_selection(commitment, Seed("lottery", "text"))
    record = selection.record
    items = verify_selection(VerifyRequest(record, "record.json", None, None, False, None))
    failed = [f"{item.name}: {item.detail}" for item in items if not item.ok]
    assert not failed
    lottery = record["lottery"]
    assert lottery["lower_bound"] <= lottery["max_change"] < 1 / m
    appearances = {person: 0 for person in record["probabilities"]}
    for panel in lottery["panels"]:
        for person in panel:
            appearances[person] += 1
    for person, probability in record["probabilities"].items():
        assert abs(appearances[person] / m - probability) <= lottery["max_change"]
        if needs_a_panel(probability, m):
            assert appearances[person] >= 1
