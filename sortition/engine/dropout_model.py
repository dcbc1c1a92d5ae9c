"""Dropout models: each panel member's probability of staying, and scenarios drawn from them
(sortition.dropouts.models reads them from the options and files; docs/dropouts.md).

P(stay) = β₀ · Π_f β_{f, v_f}, clipped to [0, 1]. A scenario is the set of panel members who drop
out: member i (in id order) drops out when the next 64-bit word w of the seeded stream
(docs/randomness.md) is at least floor(P_i(stay) · 2^64), so each member drops independently with
probability 1 − P_i(stay), and anyone can re-draw the scenarios from the seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sortition.errors import N_, InputError, problem
from sortition.model import Instance, Quotas
from sortition.randomness import SeededStream

_WORDS = 1 << 64


@dataclass(frozen=True)
class DropoutModel:
    """P(stay) = beta0 · Π beta[(feature, value)] (a missing value: 1)."""

    kind: str  # "uniform", "per-value" or "fitted"
    beta0: float
    beta: dict[tuple[str, str], float] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)  # what the record says it came from

    def stay_probability(self, quotas: Quotas, values: np.ndarray) -> np.ndarray:
        """(n,) P(stay) of people with these quota-row indices (n, features)."""
        factor = np.array(
            [self.beta.get((q.feature, q.value), 1.0) for q in quotas.rows], dtype=np.float64
        )
        product = self.beta0 * np.prod(factor[values], axis=1) if values.size else np.zeros(0)
        return np.clip(product, 0.0, 1.0)

    def as_record(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "beta0": self.beta0,
            "beta": [
                {"feature": f, "value": v, "beta": b} for (f, v), b in sorted(self.beta.items())
            ],
            **self.source,
        }


def model_from_record(document: Any, name: str) -> DropoutModel:
    """The model as an alternates record states it (``DropoutModel.as_record``)."""
    try:
        beta = {(b["feature"], b["value"]): float(b["beta"]) for b in document["beta"]}
        model = DropoutModel(str(document["kind"]), float(document["beta0"]), beta)
    except (KeyError, TypeError, ValueError):
        raise InputError(
            [problem(N_("invalid record: 'model' is not a dropout model"), file=name)]
        ) from None
    if not all(math.isfinite(v) for v in (model.beta0, *beta.values())):
        raise InputError(
            [problem(N_("invalid record: 'model' has a factor that is not a number"), file=name)]
        )
    return model


def draw_scenarios(stay: np.ndarray, count: int, stream: SeededStream) -> np.ndarray:
    """(count, members) bool: who drops out in each scenario (member i drops when the stream's
    next word is at least floor(stay_i · 2^64))."""
    thresholds = [min(math.floor(float(p) * _WORDS), _WORDS) for p in stay]
    out = np.zeros((count, len(stay)), dtype=bool)
    for t in range(count):
        for i, limit in enumerate(thresholds):
            out[t, i] = stream.next_word() >= limit
    return out


def panel_stay(instance: Instance, panel: np.ndarray, model: DropoutModel) -> np.ndarray:
    """P(stay) of each panel member (canonical indices, in id order)."""
    return model.stay_probability(instance.quotas, instance.pool.values[panel])
