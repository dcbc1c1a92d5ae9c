"""Distribution.panels in the smallest integer dtype (units.count_dtype) and finish_distribution
without a wide matrix: the same panels, order, weights and probabilities as the int64 matrix
sorted by np.lexsort that it replaces, and the same draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.engine.master import descending_order, finish_distribution, mixture
from sortition.randomness import SeededStream
from sortition.record.distribution_draw import choose_members, draw_panel_index
from sortition.units import Distribution, UnitInstance, compact_counts, count_dtype


def _instance(capacity: np.ndarray) -> UnitInstance:
    n = len(capacity)
    return UnitInstance(
        capacity=capacity,
        incidence=np.ones((1, n), dtype=bool),
        feature_of_value=np.zeros(1, dtype=np.int64),
        value_min=np.zeros(1, dtype=np.int64),
        value_max=np.full(1, 10**9, dtype=np.int64),
        households=(),
        k=0,
    )


def _wide_finish(
    inst: UnitInstance, panels: list[np.ndarray], lam: np.ndarray, selectable: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """finish_distribution as it was: the kept panels as one int64 matrix sorted by lexsort."""
    lam = np.where(lam < 1e-12, 0.0, lam)
    keep = np.flatnonzero(lam > 0)
    kept = np.asarray([panels[j] for j in keep.tolist()]).reshape(len(keep), inst.n_units)
    w = lam[keep]
    w = w / w.sum()
    order = np.lexsort(kept.T[::-1])[::-1] if len(kept) else np.arange(0)
    mat = kept[order].astype(np.int64)
    w = w[order]
    prob = mixture(list(mat), w, inst.n_units) / inst.capacity
    prob[~selectable] = 0.0
    return mat, w, prob


@st.composite
def _panels(draw: st.DrawFn, largest: int = 300) -> tuple[np.ndarray, list[np.ndarray]]:
    n_units = draw(st.integers(1, 6))
    n_panels = draw(st.integers(1, 9))
    top = draw(st.sampled_from([1, 3, 127, 128, largest]))
    rows = [
        np.asarray(draw(st.lists(st.integers(0, top), min_size=n_units, max_size=n_units)))
        for _ in range(n_panels)
    ]
    # repeats, so that equal vectors meet in the sort
    for _ in range(draw(st.integers(0, 3))):
        rows.append(rows[draw(st.integers(0, len(rows) - 1))].copy())
    capacity = np.maximum(np.max(rows, axis=0), 1) + draw(st.integers(0, 2))
    dtype = draw(st.sampled_from([np.int16, np.int32, np.int64]))
    return capacity, [np.asarray(r, dtype=dtype) for r in rows]


@settings(max_examples=200, deadline=None)
@given(_panels())
def test_descending_order_is_reversed_lexsort(case: tuple[np.ndarray, list[np.ndarray]]) -> None:
    _, panels = case
    matrix = np.asarray(panels, dtype=np.int64)
    expected = np.lexsort(matrix.T[::-1])[::-1]
    assert descending_order(panels).tolist() == expected.tolist()


@settings(max_examples=150, deadline=None)
@given(_panels(), st.data())
def test_finish_distribution_equals_the_wide_matrix(
    case: tuple[np.ndarray, list[np.ndarray]], data: st.DataObject
) -> None:
    capacity, panels = case
    inst = _instance(capacity)
    lam = np.asarray(
        data.draw(
            st.lists(
                st.sampled_from([0.0, 1e-13, 0.1, 0.25, 0.3, 1.0 / 3.0, 0.5]),
                min_size=len(panels),
                max_size=len(panels),
            ).filter(lambda xs: max(xs) >= 0.1)
        )
    )
    selectable = np.asarray(
        data.draw(st.lists(st.booleans(), min_size=inst.n_units, max_size=inst.n_units))
    )
    dist = finish_distribution(inst, panels, lam, "test", {}, selectable)
    mat, w, prob = _wide_finish(inst, panels, lam, selectable)
    assert dist.panels.dtype == count_dtype(int(mat.max()))
    assert np.array_equal(dist.panels.astype(np.int64), mat)
    assert dist.weights.tobytes() == w.tobytes()
    assert dist.unit_probability.tobytes() == prob.tobytes()
    # the same draws: the panel index and its members
    members = [np.arange(int(c)) + int(capacity[:u].sum()) for u, c in enumerate(capacity)]
    for seed in ("a", "b", "c"):
        narrow, wide = SeededStream(seed), SeededStream(seed)
        index = draw_panel_index(dist.weights, narrow)
        assert index == draw_panel_index(w, wide)
        chosen = choose_members(dist.panels[index], members, narrow)
        assert chosen.tolist() == choose_members(mat[index], members, wide).tolist()


def test_finish_distribution_above_the_block_threshold() -> None:
    """Above 2,000 units the probabilities are summed in blocks of panels: still the same."""
    rng = np.random.default_rng(5)
    n_units, n_panels = 2_100, 300
    capacity = rng.integers(1, 4, n_units)
    panels = [
        np.minimum(rng.integers(0, 3, n_units), capacity).astype(np.int16) for _ in range(n_panels)
    ]
    panels += [panels[7].copy(), panels[11].copy()]
    lam = rng.random(len(panels))
    lam[::5] = 0.0
    inst = _instance(capacity)
    selectable = np.ones(n_units, dtype=bool)
    dist = finish_distribution(inst, panels, lam, "test", {}, selectable)
    mat, w, prob = _wide_finish(inst, panels, lam, selectable)
    assert dist.panels.dtype == np.int8
    assert np.array_equal(dist.panels.astype(np.int64), mat)
    assert dist.weights.tobytes() == w.tobytes()
    assert dist.unit_probability.tobytes() == prob.tobytes()


@pytest.mark.parametrize(
    ("largest", "dtype"),
    [
        (0, np.int8),
        (127, np.int8),
        (128, np.int16),
        (32_767, np.int16),
        (32_768, np.int32),
        (2**31 - 1, np.int32),
        (2**31, np.int64),
    ],
)
def test_the_largest_count_picks_the_dtype(largest: int, dtype: type) -> None:
    assert count_dtype(largest) == np.dtype(dtype)
    panels = np.zeros((2, 3), dtype=np.int64)
    panels[1, 2] = largest
    dist = Distribution(
        panels=panels, weights=np.array([0.5, 0.5]), unit_probability=np.zeros(3), algorithm="x"
    )
    assert dist.panels.dtype == np.dtype(dtype)
    assert int(dist.panels[1, 2]) == largest


def test_compact_counts_keeps_a_compact_array_and_refuses_negative_counts() -> None:
    panels = np.ones((2, 2), dtype=np.int8)
    assert compact_counts(panels) is panels
    with pytest.raises(ValueError, match="non-negative"):
        compact_counts(np.array([[1, -1]]))
    with pytest.raises(ValueError, match="integer"):
        compact_counts(np.array([[0.5]]))
