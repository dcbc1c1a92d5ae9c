"""Two roundings of a distribution over panels to M panels that always finish (step 1 of the
transparent lottery, ``sortition.selection.transparent``).

Panel P of weight p_P gets floor(M * p_P) copies, and the residuals M * p_P - floor(M * p_P)
(which sum to an integer) are rounded to 0 or 1 so that the counts sum to M:

* ``beck_fiala_counts``: Beck–Fiala iterative rounding, which moves every type's average number of
  panels per member by at most k/M;
* ``pipage_counts``: deterministic pipage rounding, two fractional panels trading mass at a time.

Both choose, at every step, the direction whose largest change over units so far is smaller, and
use elementwise IEEE arithmetic only, so they give the same counts on every machine.
"""

from __future__ import annotations

import numpy as np

from sortition.units import UnitInstance

# Fractional parts within SNAP of 0 or 1 are taken as integral (float noise of M * p_P).
SNAP = 1e-9


def check_distribution(
    units: UnitInstance, panels: np.ndarray, weights: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """The panels (P, U) as integers and the weights (P,) normalised to sum 1, after checking
    their shapes, that the weights are finite and non-negative and m a positive integer
    (ValueError otherwise: a caller's mistake, not bad input)."""
    pan = np.asarray(panels, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    if pan.ndim != 2 or pan.shape[1] != units.n_units:
        raise ValueError(f"panels must have shape (P, {units.n_units})")
    if w.shape != (pan.shape[0],):
        raise ValueError(f"weights must have shape ({pan.shape[0]},)")
    if not np.isfinite(w).all() or (w < -1e-9).any():
        raise ValueError("weights must be finite and non-negative")
    if isinstance(m, bool) or int(m) != m or m < 1:
        raise ValueError("m must be a positive integer")
    w = np.clip(w, 0.0, None)
    total = float(w.sum())
    if total <= 0:
        raise ValueError("the distribution has no weight")
    if (pan < 0).any() or (pan > units.capacity[None, :]).any():
        raise ValueError("panel counts must lie between 0 and each unit's capacity")
    return pan, w / total


def _residuals(w: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """floor(M * p_P) and the fractional parts, with float noise near 0 and 1 snapped away."""
    x = float(m) * w
    base = np.floor(x)
    frac = x - base
    up = frac > 1.0 - SNAP
    base[up] += 1.0
    frac[up] = 0.0
    frac[frac < SNAP] = 0.0
    missing = m - int(base.sum())
    if abs(float(frac.sum()) - missing) > 1e-6 * max(1, len(w)):
        raise AssertionError("residuals do not sum to an integer")
    return base.astype(np.int64), frac


def _finish_rounding(base: np.ndarray, frac: np.ndarray, m: int) -> np.ndarray:
    """Integer counts from base + (snapped) fractional parts, repaired to sum exactly to m."""
    counts = base + np.rint(frac).astype(np.int64)
    # Only float noise can leave the sum off by one; repair deterministically by residual.
    while int(counts.sum()) < m:
        counts[int(np.argmax(frac - (counts - base)))] += 1
    while int(counts.sum()) > m:
        options = np.where(counts > 0, (counts - base) - frac, -np.inf)
        counts[int(np.argmax(options))] -= 1
    return counts


# --------------------------------------------------------------------------- Beck–Fiala


def _kernel_vector(matrix: np.ndarray) -> np.ndarray | None:
    """A non-zero vector d with matrix @ d = 0 (Gaussian elimination with partial pivoting, the
    first free column set to 1, other free columns 0), scaled to max |d| = 1; None if the kernel
    is trivial. Elementwise IEEE arithmetic only, so the result is the same on every machine."""
    a = np.array(matrix, dtype=np.float64)
    rows, cols = a.shape
    tol = 1e-10 * max(1.0, float(np.abs(a).max()) if a.size else 1.0)
    pivots: list[int] = []
    r = 0
    for col in range(cols):
        if r == rows:
            break
        best = r + int(np.argmax(np.abs(a[r:, col])))
        if abs(a[best, col]) <= tol:
            continue
        if best != r:
            a[[r, best]] = a[[best, r]]
        a[r] = a[r] / a[r, col]
        others = np.arange(rows) != r
        a[others] -= np.outer(a[others, col], a[r])
        pivots.append(col)
        r += 1
    free = [c for c in range(cols) if c not in set(pivots)]
    if not free:
        return None
    d = np.zeros(cols)
    d[free[0]] = 1.0
    for row, col in enumerate(pivots):
        d[col] = -a[row, free[0]]
    return d / float(np.abs(d).max())


def _step_lengths(f: np.ndarray, d: np.ndarray) -> tuple[float, float]:
    """Largest lam+ and lam- keeping f + lam+ d and f - lam- d inside [0, 1]."""
    pos, neg = d > 0, d < 0
    up = min(
        float(np.min((1.0 - f[pos]) / d[pos])) if pos.any() else np.inf,
        float(np.min(f[neg] / -d[neg])) if neg.any() else np.inf,
    )
    down = min(
        float(np.min(f[pos] / d[pos])) if pos.any() else np.inf,
        float(np.min((1.0 - f[neg]) / -d[neg])) if neg.any() else np.inf,
    )
    return up, down


def _snap(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    out[out < SNAP] = 0.0
    out[out > 1.0 - SNAP] = 1.0
    return out


def beck_fiala_counts(
    units: UnitInstance, panels: np.ndarray, weights: np.ndarray, m: int
) -> np.ndarray:
    """Beck–Fiala iterative rounding of the residuals; |pi'_u - pi_u| <= k/m for every unit.

    Each round keeps exact the sum row and every unit row whose remaining fractional weight
    sum_{P floating} panel[P,u]/cap_u exceeds k; since every column has weight at most k there
    are fewer such rows than floating panels, so (but for a degenerate square case, where the
    lightest such row is released) a direction in their kernel exists. The floating panels move
    along it (on the first rows+1 floating panels only) until one more is integral, in whichever
    of the two directions gives the smaller largest change so far (ties: +). A row drops out
    once its weight is at most k, and every later move of a panel is less than 1, so the row
    changes by less than k in all. (A row released in the degenerate case, with weight still
    above k, loses that guarantee; the achieved change is always measured and reported.)
    """
    pan, w = check_distribution(units, panels, weights, m)
    base, f = _residuals(w, m)
    cap = units.capacity.astype(np.float64)
    a = pan.T.astype(np.float64) / cap[:, None]  # (U, P) person-normalised rows
    dev = np.zeros(units.n_units)  # a @ (f - f0): slots gained per person so far
    k = float(units.k)
    released: set[int] = set()
    for _ in range(4 * len(f) + 10):  # each round makes a panel integral; the cap is a guard
        floating = np.flatnonzero((f > 0.0) & (f < 1.0))
        if len(floating) <= 1:
            break
        weight = a[:, floating].sum(axis=1)
        active = [int(u) for u in np.flatnonzero(weight > k + 1e-9) if int(u) not in released]
        d_full: np.ndarray | None = None
        while d_full is None:
            rows = np.vstack([a[active][:, floating], np.ones((1, len(floating)))])
            cols = floating[: min(len(floating), rows.shape[0] + 1)]
            d = _kernel_vector(rows[:, : len(cols)])
            if d is None:
                # Degenerate: as many independent rows as floating panels. Release the lightest.
                lightest = min(active, key=lambda u: (weight[u], u))
                released.add(lightest)
                active.remove(lightest)
                continue
            d_full = np.zeros(len(f))
            d_full[cols] = d
        up, down = _step_lengths(f[cols], d_full[cols])
        move = a[:, cols] @ d_full[cols]
        f_up, f_down = _snap(f + up * d_full), _snap(f - down * d_full)
        dev_up, dev_down = dev + up * move, dev - down * move
        if float(np.abs(dev_down).max(initial=0.0)) < float(np.abs(dev_up).max(initial=0.0)):
            f, dev = f_down, dev_down
        else:
            f, dev = f_up, dev_up
    return _finish_rounding(base, f, m)


# --------------------------------------------------------------------------- pipage


def pipage_counts(
    units: UnitInstance, panels: np.ndarray, weights: np.ndarray, m: int
) -> np.ndarray:
    """Deterministic pipage rounding of the residuals M*p_P - floor(M*p_P).

    While two panels are fractional, the two of lowest index trade mass (one up, one down, the
    sum unchanged) until one of them is integral, in the direction whose largest change over units
    so far is smaller (ties: the lower-index panel goes up)."""
    pan, w = check_distribution(units, panels, weights, m)
    base, f = _residuals(w, m)
    cap = units.capacity.astype(np.float64)
    a = pan.T.astype(np.float64) / cap[:, None]
    dev = np.zeros(units.n_units)
    for _ in range(4 * len(f) + 10):  # each round makes a panel integral; the cap is a guard
        floating = np.flatnonzero((f > 0.0) & (f < 1.0))
        if len(floating) <= 1:
            break
        i, j = int(floating[0]), int(floating[1])
        diff = a[:, i] - a[:, j]
        up = min(1.0 - f[i], f[j])  # i up, j down
        down = min(f[i], 1.0 - f[j])  # i down, j up
        dev_up, dev_down = dev + up * diff, dev - down * diff
        g = f.copy()
        if float(np.abs(dev_down).max(initial=0.0)) < float(np.abs(dev_up).max(initial=0.0)):
            g[i], g[j] = f[i] - down, f[j] + down
            dev = dev_down
        else:
            g[i], g[j] = f[i] + up, f[j] - up
            dev = dev_up
        f = _snap(g)
        # Guard against a pair that float noise left both fractional.
        if 0.0 < f[i] < 1.0 and 0.0 < f[j] < 1.0:
            f[i] = float(np.rint(f[i]))
    return _finish_rounding(base, f, m)
