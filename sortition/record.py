"""The selection record: what was done, committed to by digests, re-runnable by anyone.

Version 1 (docs/record.md): kind, version, tool and solver versions, input digests, the
pseudonymised pool, the quotas, k, algorithm and parameters, the seed source and value, the panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from sortition import __version__
from sortition.canonical import pool_digest, pseudonymised_pool, quota_rows, quotas_digest
from sortition.model import Instance

RECORD_VERSION = 1


@dataclass(frozen=True)
class SeedSource:
    """Where the seed came from: ``seed`` (given as text) or ``os`` (fresh, not public)."""

    kind: str
    value: str

    def as_record(self) -> dict[str, str]:
        return {"source": self.kind, "value": self.value}


@dataclass(frozen=True)
class InputFiles:
    """What the record says of the input files: names (not paths) and raw SHA-256 digests."""

    pool_name: str
    pool_sha256: str
    quotas_name: str
    quotas_sha256: str
    id_column: str | None
    household_columns: tuple[str, ...]


def tool_versions() -> dict[str, str]:
    return {"sortition": __version__, "ortools": version("ortools")}


def selection_record(
    instance: Instance,
    files: InputFiles,
    algorithm: str,
    parameters: dict[str, Any],
    seed: SeedSource,
    panel_ids: list[str],
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    pool, quotas = instance.pool, instance.quotas
    record: dict[str, Any] = {
        "kind": "selection",
        "version": RECORD_VERSION,
        "tool": tool_versions(),
        "inputs": {
            "pool": {
                "digest": pool_digest(pool, quotas),
                "file": files.pool_name,
                "file_sha256": files.pool_sha256,
                "people": pool.size,
                "id_column": files.id_column,
                "household_columns": list(files.household_columns),
            },
            "quotas": {
                "digest": quotas_digest(quotas),
                "file": files.quotas_name,
                "file_sha256": files.quotas_sha256,
            },
        },
        "k": instance.k,
        "algorithm": algorithm,
        "parameters": parameters,
        "seed": seed.as_record(),
        "panel": panel_ids,
    }
    if details:
        record["details"] = details
    record["quotas"] = quota_rows(quotas)
    record["pool"] = pseudonymised_pool(pool, quotas)
    return record
