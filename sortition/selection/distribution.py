"""distribution.json: the published form of a distribution over panels (docs/distribution.md)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sortition.engine.objectives import PoolDistribution

# Statistics that depend on the machine (timings) stay out of the files, which must be identical
# on every machine; the console shows them.
_VOLATILE_STAT_WORDS = ("seconds", "time")


def deterministic_stats(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in sorted(stats.items())
        if not any(word in key for word in _VOLATILE_STAT_WORDS)
    }


def distribution_document(result: PoolDistribution) -> dict[str, Any]:
    instance, dist = result.instance, result.distribution
    ids = instance.pool.ids
    quotas = instance.quotas
    features = quotas.features
    document: dict[str, Any] = {
        "algorithm": dist.algorithm,
        "path": "types" if result.by_type else "people",
        "people": instance.pool.size,
        "k": instance.k,
    }
    weights = [float(w) for w in dist.weights]
    if result.by_type:
        document["units"] = [
            {
                "values": {
                    feature: quotas.rows[int(v)].value
                    for feature, v in zip(
                        features, instance.pool.values[int(members[0])], strict=True
                    )
                },
                "members": [ids[int(p)] for p in members],
            }
            for members in result.members_of_unit
        ]
        document["panels"] = [
            {
                "weight": weight,
                "counts": [[int(u), int(panel[u])] for u in np.flatnonzero(panel)],
            }
            for weight, panel in zip(weights, dist.panels, strict=True)
        ]
    else:
        document["panels"] = [
            {
                "weight": weight,
                "members": [
                    ids[int(p)] for u in np.flatnonzero(panel) for p in result.members_of_unit[u]
                ],
            }
            for weight, panel in zip(weights, dist.panels, strict=True)
        ]
    document["never_selectable"] = [ids[i] for i in result.never_selectable]
    if dist.certificate is not None:
        document["certificate"] = dist.certificate.as_record()
    if result.diversity is not None:
        document["diversity"] = result.diversity.as_record()
    document["stats"] = deterministic_stats(dict(dist.stats))
    return document


def probability_rows(result: PoolDistribution) -> list[tuple[str, str]]:
    """(id, probability) for every pool member, in the pool file's row order."""
    pool = result.instance.pool
    probability = result.person_probability
    by_row = np.argsort(pool.source_rows, kind="stable")
    return [(pool.ids[i], f"{float(probability[i]):.12f}") for i in by_row]
