"""Every selection algorithm by name, in one place: what it is, and where it lives.

An algorithm is either **fair** — an objective that computes a distribution over panels, so
every volunteer's probability is exact and a panel is drawn from it (LEXIMIN, MAXIMIN, NASH,
GOLDILOCKS; and DIVERSIMAX, whose distribution is its one most diverse panel, so it is exact but
not fair: docs/diversity.md) —
or **sampled**: it only draws panels (LEGACY), so its probabilities are estimated from repeated
draws (``sortition.audit.sampling``). The CLI's choices, ``select``, ``verify`` and ``audit`` all
derive their lists from ``ALGORITHMS``; adding an objective is one module in
``sortition/engine/`` with the ``Objective`` signature and one line here.

The implementations are imported on first use (``objective``, ``sampler``): the solvers are
heavy, and a sampling worker or ``verify`` of a LEGACY record never needs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, cast

import numpy as np

from sortition.engine.settings import EngineSettings
from sortition.model import Instance
from sortition.progress import Progress
from sortition.randomness import SeededStream
from sortition.units import Distribution, UnitInstance


class Objective(Protocol):
    """A fair algorithm: an instance over units in, a distribution over panels out.

    Raises ``NoFeasiblePanel`` when no panel meets the quotas and ``TimeLimitReached`` past
    ``time_limit`` seconds (``sortition.engine.errors``).
    """

    def __call__(
        self,
        inst: UnitInstance,
        *,
        settings: EngineSettings = ...,
        progress: Progress | None = ...,
        time_limit: float | None = ...,
    ) -> Distribution: ...


class PanelDraw(Protocol):
    @property
    def panel(self) -> np.ndarray: ...


class Sampler(Protocol):
    """Anything that draws one panel (canonical person indices) from a seeded stream."""

    def draw(self, stream: SeededStream) -> PanelDraw: ...


@dataclass(frozen=True)
class Algorithm:
    """name: as the command line and the records spell it; kind: fair or sampled; module and
    entry: where its objective function (fair) or sampler class (sampled) lives."""

    name: str
    kind: Literal["fair", "sampled"]
    module: str
    entry: str


ALGORITHMS: dict[str, Algorithm] = {
    algorithm.name: algorithm
    for algorithm in (
        Algorithm("legacy", "sampled", "sortition.engine.legacy", "LegacySampler"),
        Algorithm("leximin", "fair", "sortition.engine.leximin", "leximin"),
        Algorithm("maximin", "fair", "sortition.engine.maximin", "maximin"),
        Algorithm("nash", "fair", "sortition.engine.nash", "nash"),
        Algorithm("goldilocks", "fair", "sortition.engine.goldilocks", "goldilocks"),
        Algorithm("diversimax", "fair", "sortition.engine.diversimax", "diversimax"),
    )
}
FAIR_ALGORITHMS = tuple(name for name, a in ALGORITHMS.items() if a.kind == "fair")
SAMPLED_ALGORITHMS = tuple(name for name, a in ALGORITHMS.items() if a.kind == "sampled")


def _entry(name: str, kind: str) -> object:
    algorithm = ALGORITHMS.get(name)
    if algorithm is None or algorithm.kind != kind:
        raise KeyError(f"no {kind} algorithm named {name!r}")
    return getattr(importlib.import_module(algorithm.module), algorithm.entry)


def objective(name: str) -> Objective:
    """The objective function of a fair algorithm (KeyError for any other name)."""
    return cast(Objective, _entry(name, "fair"))


def sampler(name: str) -> Callable[[Instance], Sampler]:
    """The sampler class of a sampled algorithm (KeyError for any other name)."""
    return cast(Callable[[Instance], Sampler], _entry(name, "sampled"))
