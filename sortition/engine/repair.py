"""A walk step's repair without CP-SAT: integer counts meeting every row, found in numpy.

At a vertex of a face's LP most counts are whole; the few fractional ones, rounded, break some
of the panel model's rows (a value's lower or upper count, the panel size, a household) by one
or two. ``repair_counts`` mends them by local search over a set of free units (the units near
the fractional ones), each move one unit's count +1, one unit's count -1, or an exchange of one
for another (+1 and -1, which keeps the panel size), each within the unit's bounds on the face.

The search is steepest descent on the rows' weighted violation (how far each row's sum lies
outside its bounds, times the row's weight); among moves that reduce it equally it takes the one
that gains most preference. At a local minimum (no move reduces the violation) the weights of the
rows still violated grow by one ("breakout", Morris 1993): the violation moves to the rows that
can absorb it, and a chain of exchanges mends rows no single move could. The search stops at the
first counts that meet every row, or after ``moves`` steps (then None: the caller asks CP-SAT).
Counts that meet every row are then polished: up to ``polish`` exchanges that keep every row met
and gain preference, the best first (the walk's panels should be high in its preference, as
CP-SAT's repair, which maximised it, made them: without the polish the walk on ces11_k60 took
386 panels, with it 375, with CP-SAT's repair 368).

Rows are 0/1 (every row of the panel model: the size, the quotas, the households); any other
coefficient makes the search decline (None). Deterministic: no randomness, ties broken by index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The weight of the preference against one unit of violation: the preference's range is scaled
# to this, below 1/2, so that it only breaks ties between moves that mend the rows equally (an
# exchange's score moves by at most _TIE, a single move's by _TIE / 2).
_TIE = 0.4
# An exchange that keeps every row met is taken when it gains more preference than this.
_GAIN = 1e-12


@dataclass(frozen=True)
class SparseRows:
    """Linear rows in coordinate form: entry i adds ``coeff[i] * counts[col[i]]`` to row
    ``row[i]``; ``n_rows`` rows."""

    row: np.ndarray
    col: np.ndarray
    coeff: np.ndarray
    n_rows: int
    # the entries in column order and where each column's start (``by_column``)
    order: np.ndarray = field(init=False, repr=False)
    starts: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        order = np.argsort(self.col, kind="stable")
        n_cols = int(self.col.max()) + 1 if len(self.col) else 0
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "starts", np.searchsorted(self.col[order], np.arange(n_cols + 1)))

    def activity(self, counts: np.ndarray) -> np.ndarray:
        """Each row's left-hand side at ``counts``: over the entries of the nonzero counts
        only (a panel's few among thousands of units; exact alike, the counts being whole)."""
        nonzero = np.flatnonzero(counts)
        entries = self.by_column(nonzero)
        weights = self.coeff[entries] * counts[self.col[entries]]
        return np.bincount(self.row[entries], weights=weights, minlength=self.n_rows)

    def by_column(self, columns: np.ndarray) -> np.ndarray:
        """The entries of ``columns``, column after column (none for a column past the
        last with an entry)."""
        last = len(self.starts) - 1
        columns = np.minimum(columns, last)
        first = self.starts[columns]
        lengths = self.starts[np.minimum(columns + 1, last)] - first
        total = int(lengths.sum())
        # each entry's position: its column's first plus its place within the column
        offsets = np.repeat(first - np.cumsum(lengths) + lengths, lengths)
        return np.asarray(self.order[offsets + np.arange(total)], dtype=np.int64)


@dataclass
class RepairTally:
    """What the numpy repair did: calls, counts it mended, moves taken."""

    calls: int = 0
    mended: int = 0
    moves: int = 0


def repair_counts(
    start: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    rows: SparseRows,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    free: np.ndarray,
    preference: np.ndarray,
    *,
    moves: int = 60,
    polish: int = 0,
    tally: RepairTally | None = None,
) -> np.ndarray | None:
    """Counts within [low, high] meeting every row (``row_lo`` <= activity <= ``row_hi``) that
    equal ``start`` outside ``free`` (unit indices), found by moving the free counts (see the
    module); None if none is found within ``moves`` steps, or if a row no free unit is in is
    broken, or if a row's coefficients are not 0/1. ``start`` must be within [low, high]."""
    if tally is not None:
        tally.calls += 1
    counts = np.asarray(start, dtype=np.int64).copy()
    activity = rows.activity(counts.astype(np.float64))
    broken = (activity < row_lo) | (activity > row_hi)
    if not broken.any():
        return counts
    free = np.asarray(free, dtype=np.int64)
    n_units = len(counts)
    is_free = np.zeros(n_units, dtype=bool)
    is_free[free] = True
    entries = np.flatnonzero(is_free[rows.col])
    if (rows.coeff[entries] != 1.0).any():
        return None
    touched_rows = np.unique(rows.row[entries])
    outside = broken.copy()
    outside[touched_rows] = False
    if outside.any():
        return None  # a broken row without a free unit in it
    # the free units' rows as a dense 0/1 matrix (rows touched × free units)
    position = np.full(n_units, -1, dtype=np.int64)
    position[free] = np.arange(len(free))
    row_index = np.full(rows.n_rows, -1, dtype=np.int64)
    row_index[touched_rows] = np.arange(len(touched_rows))
    # (whole numbers throughout: numpy's integer products do not call BLAS, whose threads cost
    # more than these small products, ten times over on ces11_k60)
    member = np.zeros((len(touched_rows), len(free)), dtype=np.int64)
    member[row_index[rows.row[entries]], position[rows.col[entries]]] = 1
    act = np.rint(activity[touched_rows]).astype(np.int64)
    lo = np.ceil(row_lo[touched_rows])
    hi = np.floor(row_hi[touched_rows])
    c = counts[free]
    c_lo = np.asarray(low, dtype=np.int64)[free]
    c_hi = np.asarray(high, dtype=np.int64)[free]
    pref = np.asarray(preference, dtype=np.float64)[free]
    spread = float(pref.max() - pref.min()) if len(pref) else 0.0
    tie = (pref - pref.min()) * (_TIE / spread) - _TIE / 2 if spread > 0 else np.zeros(len(free))
    weight = np.ones(len(touched_rows), dtype=np.int64)
    for _ in range(moves):
        over = act > hi
        under = act < lo
        if not (over | under).any():
            if tally is not None:
                tally.mended += 1
                tally.moves += _polish(member, act, lo, hi, c, c_lo, c_hi, pref, polish)
            else:
                _polish(member, act, lo, hi, c, c_lo, c_hi, pref, polish)
            counts[free] = c
            return counts
        # what one more (one fewer) member adds to each row's weighted violation
        up = np.where(act >= hi, weight, 0) - np.where(under, weight, 0)
        down = np.where(act <= lo, weight, 0) - np.where(over, weight, 0)
        gain_up = up @ member  # +1 on a free unit
        gain_down = down @ member  # -1 on a free unit
        # only the units that can move are scored: on a panel of 150 among thousands of units
        # few can lose one, so the exchanges are few (addable × removable)
        adds = np.flatnonzero(c < c_hi)
        removes = np.flatnonzero(c > c_lo)
        # +1 on u and -1 on w: the rows both are in do not move (only the rows at a bound,
        # where up + down is not 0, count)
        both = up + down
        at_bound = np.flatnonzero(both)
        shared = member[at_bound][:, adds].T @ (member[at_bound][:, removes] * both[at_bound, None])
        exchange = (gain_up[adds, None] + gain_down[None, removes] - shared).astype(np.float64)
        exchange -= tie[adds, None] - tie[None, removes]
        exchange[adds[:, None] == removes[None, :]] = np.inf
        score = np.inf
        choice = ("x", -1, -1)
        if exchange.size:
            best = int(np.argmin(exchange))
            score = float(exchange.flat[best])
            choice = ("x", int(adds[best // len(removes)]), int(removes[best % len(removes)]))
        for kind, units, scores in (
            ("u", adds, gain_up[adds] - tie[adds]),
            ("d", removes, gain_down[removes] + tie[removes]),
        ):
            if len(units):
                j = int(np.argmin(scores))
                if float(scores[j]) < score:
                    score = float(scores[j])
                    choice = (kind, int(units[j]), int(units[j]))
        if not score < -0.5:  # no move mends the weighted rows: raise the broken rows' weight
            weight[over | under] += 1
            continue
        kind, u, w = choice
        if kind in ("x", "u"):
            c[u] += 1
            act += member[:, u]
        if kind in ("x", "d"):
            c[w] -= 1
            act -= member[:, w]
        if tally is not None:
            tally.moves += 1
    return None


def _polish(
    member: np.ndarray,
    act: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    c: np.ndarray,
    c_lo: np.ndarray,
    c_hi: np.ndarray,
    pref: np.ndarray,
    moves: int,
) -> int:
    """Exchanges that keep every row met and gain preference, the best first, at most
    ``moves`` of them (``c`` and ``act`` are updated in place); returns how many were made."""
    for made in range(moves):
        adds = np.flatnonzero(c < c_hi)
        removes = np.flatnonzero(c > c_lo)
        if not len(adds) or not len(removes):
            return made
        # +1 on u breaks a row at its upper bound that w is not in; -1 on w one at its lower
        full = np.flatnonzero(act >= hi)
        empty = np.flatnonzero(act <= lo)
        at_full = member[full]
        at_empty = member[empty]
        blocked = at_full[:, adds].sum(axis=0)[:, None] - at_full[:, adds].T @ at_full[:, removes]
        blocked += at_empty[:, removes].sum(axis=0)[None, :] - (
            at_empty[:, adds].T @ at_empty[:, removes]
        )
        gain = pref[adds, None] - pref[None, removes]
        gain[(blocked > 0) | (adds[:, None] == removes[None, :])] = -np.inf
        best = int(np.argmax(gain))
        if not float(gain.flat[best]) > _GAIN:
            return made
        u, w = int(adds[best // len(removes)]), int(removes[best % len(removes)])
        c[u] += 1
        c[w] -= 1
        act += member[:, u] - member[:, w]
    return moves
