"""Drawing one panel from a distribution with the seeded stream (docs/randomness.md, section 5).

1. Each panel weight w (as written in distribution.json) becomes the integer floor(w * 2**48).
2. r = below(sum of those integers); the drawn panel is the first whose running sum exceeds r.
3. On the type path, each unit (in unit order) with count c > 0 gives c members chosen by
   ``sample`` from its members in id order.

Integers throughout, so the draw is the same in any language that parses the JSON weights as
IEEE doubles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sortition.errors import N_, Message
from sortition.randomness import SeededStream

WEIGHT_SCALE = 1 << 48


def quantised_weights(weights: Sequence[float] | np.ndarray) -> list[int]:
    return [int(np.floor(float(w) * WEIGHT_SCALE)) for w in weights]


def draw_panel_index(weights: Sequence[float] | np.ndarray, stream: SeededStream) -> int:
    """0-based index of the drawn panel."""
    tickets = quantised_weights(weights)
    total = sum(tickets)
    if total <= 0:
        raise ValueError(Message(N_("the distribution has no weight")))  # verify shows it
    r = stream.below(total)
    running = 0
    for index, count in enumerate(tickets):
        running += count
        if r < running:
            return index
    raise AssertionError("unreachable: r < total")


def choose_members(
    counts: np.ndarray, members_of_unit: Sequence[np.ndarray], stream: SeededStream
) -> np.ndarray:
    """The people of a count-vector panel: ``counts[u]`` of unit u's members, uniformly."""
    chosen: list[int] = []
    for unit in np.flatnonzero(counts):
        members = [int(p) for p in members_of_unit[int(unit)]]
        chosen.extend(stream.sample(members, int(counts[unit])))
    return np.array(sorted(chosen), dtype=np.int64)
