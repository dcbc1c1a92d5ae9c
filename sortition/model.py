"""The plain data every algorithm works on: quotas, pool, instance, panel. No file paths here."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ValueQuota:
    """The quota of one value of one feature: the panel must hold between min and max such people.

    ``min_flex``/``max_flex`` bound how far relaxation advice may move the quota (None: no bound
    beyond 0 and k).
    """

    feature: str
    value: str
    min: int
    max: int
    min_flex: int | None = None
    max_flex: int | None = None


@dataclass(frozen=True)
class Quotas:
    """All quota rows, sorted by (feature, value): the canonical order used everywhere."""

    rows: tuple[ValueQuota, ...]

    def __post_init__(self) -> None:
        keys = [(r.feature, r.value) for r in self.rows]
        if keys != sorted(keys):
            raise ValueError("quota rows must be sorted by (feature, value)")

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.feature for r in self.rows))

    def value_indices(self, feature: str) -> list[int]:
        return [i for i, r in enumerate(self.rows) if r.feature == feature]

    @property
    def feature_of_value(self) -> np.ndarray:
        """(V,) index into ``features`` of each quota row."""
        position = {f: j for j, f in enumerate(self.features)}
        return np.array([position[r.feature] for r in self.rows], dtype=np.int64)

    @property
    def mins(self) -> np.ndarray:
        return np.array([r.min for r in self.rows], dtype=np.int64)

    @property
    def maxs(self) -> np.ndarray:
        return np.array([r.max for r in self.rows], dtype=np.int64)

    def label(self, v: int) -> str:
        return f"{self.rows[v].feature} {self.rows[v].value}"


@dataclass(frozen=True)
class Pool:
    """The volunteers, in canonical order: sorted by id (string order).

    ``values[i, j]`` is the quota row index (into ``Quotas.rows``) of person i's value of feature j.
    ``households[i]`` numbers households 0, 1, ... by first appearance in id order, or is None when
    no household rule applies. ``source_rows[i]`` is the person's 0-based data row in the file.
    """

    ids: tuple[str, ...]
    values: np.ndarray
    households: np.ndarray | None
    source_rows: np.ndarray

    @property
    def size(self) -> int:
        return len(self.ids)

    def household_count(self) -> int:
        if self.households is None:
            return self.size
        return int(self.households.max()) + 1 if self.size else 0

    def value_counts(self, quota_rows: int) -> np.ndarray:
        """(V,) how many people in the pool have each quota value."""
        return np.bincount(self.values.ravel(), minlength=quota_rows).astype(np.int64)


@dataclass(frozen=True)
class Instance:
    """What a selection needs: the pool, its quotas and the panel size k."""

    pool: Pool
    quotas: Quotas
    k: int
    notes: tuple[str, ...] = field(default=())

    def panel_counts(self, members: np.ndarray) -> np.ndarray:
        """(V,) how many of the given people (canonical indices) have each quota value."""
        return np.bincount(self.pool.values[members].ravel(), minlength=len(self.quotas.rows))
