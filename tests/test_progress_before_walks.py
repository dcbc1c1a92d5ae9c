"""Progress before the first walk step: the covering, each level of the relaxation and the nearest
point are reported, so that a long run on a large pool (forced here onto small pools by lowering
the thresholds) says where it stands, and the command line and the page show each of them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sortition_cli.progress import ProgressRenderer

from sortition.engine import columns, relaxation
from sortition.engine.leximin import leximin
from sortition.engine.maximin import maximin
from sortition.progress import (
    CoverStep,
    NearestPoint,
    ProgressEvent,
    RelaxationLevel,
    WalkStep,
)
from sortition.units import UnitInstance, from_people
from sortition.web.describe import describe_event
from tests.brute_force import random_people


def _pool() -> UnitInstance:
    """A random pool of 30 people by type (with households)."""
    values, vmin, vmax, fov, hh, k = random_people(np.random.default_rng(7004), 30, True)
    inst, _ = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
    return inst


def _before_walks(events: list[ProgressEvent]) -> list[ProgressEvent]:
    walk = next(i for i, e in enumerate(events) if isinstance(e, WalkStep))
    return events[:walk]


@pytest.mark.parametrize("large", [False, True])
def test_leximin_reports_the_covering_the_relaxation_and_the_nearest_point(
    monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    """In order: the feasibility check's panel (large pools cover lazily, after the walks; small
    ones cover first, a CoverStep a panel, the last with none uncovered), each level of the
    relaxation (numbered from 1, bounds rising, the last fixing every unit), the nearest point's
    start and end, then the walk."""
    if large:
        monkeypatch.setattr(columns, "LAZY_COVER_ABOVE", 0)
        monkeypatch.setattr(relaxation, "_SHIFTS_ABOVE", 0)
    inst = _pool()
    events: list[ProgressEvent] = []
    leximin(inst, progress=events.append)
    before = _before_walks(events)
    covering = [e for e in before if isinstance(e, CoverStep)]
    assert covering[0].panels == 1 and covering[0].algorithm == "leximin"
    if large:
        assert len(covering) == 1
        # the lazy covering finishes after the walks, and says so
        after = [e for e in events[len(before) :] if isinstance(e, CoverStep)]
        assert after and after[-1].uncovered == 0
    else:
        assert [e.panels for e in covering[1:]] == sorted(e.panels for e in covering[1:])
        assert covering[-1].uncovered == 0
    levels = [e for e in before if isinstance(e, RelaxationLevel)]
    assert [e.level for e in levels] == list(range(1, len(levels) + 1))
    assert all(a.bound <= b.bound + 1e-12 for a, b in itertools.pairwise(levels))
    assert levels[-1].fixed == levels[-1].units == inst.n_units
    nearest = [e for e in before if isinstance(e, NearestPoint)]
    assert [e.done for e in nearest] == [False, True]
    kinds = [type(e) for e in before]
    assert kinds.index(NearestPoint) > max(i for i, k in enumerate(kinds) if k is RelaxationLevel)
    assert max(i for i, k in enumerate(kinds) if k is CoverStep) < kinds.index(RelaxationLevel)


def test_maximin_reports_its_one_level_and_the_nearest_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(columns, "LAZY_COVER_ABOVE", 0)
    monkeypatch.setattr(relaxation, "_SHIFTS_ABOVE", 0)
    inst = _pool()
    events: list[ProgressEvent] = []
    dist = maximin(inst, progress=events.append)
    before = _before_walks(events)
    assert [type(e) for e in before] == [CoverStep, RelaxationLevel, NearestPoint, NearestPoint]
    level = before[1]
    assert isinstance(level, RelaxationLevel) and level.level == 1
    assert level.bound == pytest.approx(float(dist.unit_probability.min()), abs=1e-6)


def test_the_command_line_and_the_page_show_the_stages_before_the_walks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    printer = ProgressRenderer(interval=0.0)
    printer(CoverStep("leximin", panels=12, uncovered=40))
    printer(RelaxationLevel("leximin", level=3, bound=0.0125, fixed=900, units=6031))
    printer(NearestPoint("leximin", done=False))
    printer(NearestPoint("leximin", done=True))
    printer.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("LEXIMIN: covering panels 12, uncovered 40 (")
    assert lines[1].startswith("LEXIMIN: relaxation level 3, bound 0.012500, fixed 900 of 6031 (")
    assert lines[2].startswith("LEXIMIN: seeking the nearest point of the quota polytope (")
    assert lines[3].startswith("LEXIMIN: nearest point of the quota polytope found (")

    def gettext(message: str, **values: object) -> str:
        return message % values

    assert describe_event(CoverStep("leximin", 12, 40), gettext) == (
        "Covering: 12 panels, 40 types of volunteer on none yet"
    )
    assert describe_event(RelaxationLevel("leximin", 3, 0.0125, 900, 6031), gettext) == (
        "Relaxation, level 3: smallest chance at most 0.0125"
    )
    assert describe_event(NearestPoint("leximin", False), gettext).startswith("Seeking")
    assert describe_event(NearestPoint("leximin", True), gettext).startswith("Nearest point")
