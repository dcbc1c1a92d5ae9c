"""Canonical forms and digests of the inputs (docs/record.md, "Canonical forms and digests").

The pool: rows ``{"id", "household", "values": {feature: value}}`` sorted by id, households numbered
0, 1, ... by first appearance in id order (null without a household rule). The quotas: rows
``{"feature", "value", "min", "max", "min_flex", "max_flex"}`` sorted by (feature, value). Each is
serialised as compact JSON with sorted keys, UTF-8, and hashed with SHA-256 (lower-case hex).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sortition.model import Pool, Quotas


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pseudonymised_pool(pool: Pool, quotas: Quotas) -> list[dict[str, Any]]:
    """The pool as the record publishes it: ids, household numbers and quota features only."""
    features = quotas.features
    labels = [row.value for row in quotas.rows]
    rows = []
    for i, person in enumerate(pool.ids):
        rows.append(
            {
                "id": person,
                "household": None if pool.households is None else int(pool.households[i]),
                "values": {
                    f: labels[int(v)] for f, v in zip(features, pool.values[i], strict=True)
                },
            }
        )
    return rows


def quota_rows(quotas: Quotas) -> list[dict[str, Any]]:
    return [
        {
            "feature": q.feature,
            "value": q.value,
            "min": q.min,
            "max": q.max,
            "min_flex": q.min_flex,
            "max_flex": q.max_flex,
        }
        for q in quotas.rows
    ]


def pool_digest(pool: Pool, quotas: Quotas) -> str:
    return sha256_hex(canonical_json(pseudonymised_pool(pool, quotas)))


def quotas_digest(quotas: Quotas) -> str:
    return sha256_hex(canonical_json(quota_rows(quotas)))
