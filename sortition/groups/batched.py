"""The design moves evaluated many at a time with numpy: the annealing's costs become integers
(millionths), so every machine adds them up exactly alike; the candidates (pairs of people drawn
from the seeded stream) are judged in order, the first the annealing accepts is made and the
rest are dropped. Each candidate judged counts as one move of the budget, so the seating depends
on the budget only, never on how fast the machine is. The batch grows while few moves are
accepted (up to ``MAX_BATCH``) and shrinks while many are.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sortition.groups.search import _State

SCALE = 1_000_000
MAX_BATCH = 256
_WORD = float(1 << 64)


def anneal_design(
    state: _State,
    moves: int,
    t_start: float,
    t_end: float,
    check: Callable[[int], None] | None,
    every: int,
) -> None:
    """``moves`` design moves on ``state`` (no apart groups), annealing from ``t_start`` to
    ``t_end``."""
    rounds, tables, width, k = state.rounds, state.tables, state.width, state.k
    cells = rounds * tables * width
    top = max(state.size) + 2
    table = np.zeros((cells, top + 1), dtype=np.int64)  # cost of each cell at each count
    for cell in range(cells):
        slot = cell % width
        row = state.psi[state.size[cell // width]][slot]
        table[cell, : len(row)] = np.rint(np.array(row) * SCALE).astype(np.int64)
        table[cell, len(row) :] = table[cell, len(row) - 1]
    count = np.array(state.count, dtype=np.int64)
    where = np.array(state.where, dtype=np.int64)  # (rounds, k)
    slots = np.array([list(s) for s in state.slots], dtype=np.int64).reshape(k, -1)
    offsets = (np.arange(rounds, dtype=np.int64) * tables)[None, :]
    stream = state.stream
    ratio = math.log(t_end / t_start)
    done, batch, next_check = 0, 16, 0
    while done < moves:
        if done >= next_check:
            next_check += every
            if check is not None:
                check(done)
        n = min(batch, moves - done)
        a = np.array([stream.below(k) for _ in range(n)], dtype=np.int64)
        b = np.array([stream.below(k - 1) for _ in range(n)], dtype=np.int64)
        b += b >= a
        deltas = _deltas(a, b, where, slots, count, table, offsets, width)
        temperature = t_start * math.exp(ratio * done / moves) * SCALE
        taken = -1
        for i, delta in enumerate(deltas.tolist()):
            if delta <= 0 or stream.next_word() / _WORD < math.exp(-delta / temperature):
                taken = i
                break
        if taken < 0:
            done += n
            batch = min(MAX_BATCH, batch * 2)
            continue
        done += taken + 1
        batch = max(4, batch // 2) if taken < batch // 4 else batch
        move = state._design_pair(int(a[taken]), int(b[taken]))
        if move is None:
            continue
        changes, delta_apart, delta_repeats, moved = move
        for cell, d in changes.items():
            count[cell] += d
        for r, x, t in moved:
            where[r, x] = t
        state._apply(changes, delta_apart, delta_repeats, moved)


def _deltas(
    a: np.ndarray,
    b: np.ndarray,
    where: np.ndarray,
    slots: np.ndarray,
    count: np.ndarray,
    table: np.ndarray,
    offsets: np.ndarray,
    width: int,
) -> np.ndarray:
    """The change in the annealing's cost of swapping ``a[i]`` and ``b[i]`` in every round."""
    ta, tb = where[:, a].T, where[:, b].T  # (n, rounds)
    base_a = ((offsets + ta) * width)[:, :, None]
    base_b = ((offsets + tb) * width)[:, :, None]
    sa, sb = slots[a][:, None, :], slots[b][:, None, :]  # (n, 1, features)
    mask = (ta != tb)[:, :, None] & (sa != sb)
    total = np.zeros(mask.shape, dtype=np.int64)
    for base, slot, step in ((base_a, sa, -1), (base_b, sa, 1), (base_b, sb, -1), (base_a, sb, 1)):
        cell = base + slot
        c = count[cell]
        total += table[cell, np.clip(c + step, 0, table.shape[1] - 1)] - table[cell, c]
    return (total * mask).sum(axis=(1, 2))
