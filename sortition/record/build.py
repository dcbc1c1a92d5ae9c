"""The selection record: what was done, committed to by digests, re-runnable by anyone.

Version 4 (docs/record.md, docs/record.schema.json): the commitment (tool and solver versions,
input digests, the pseudonymised pool, the quotas, k, algorithm and parameters; for the fair
algorithms the distribution and every person's probability; the M-panel lottery when there is one)
and its SHA-256, then the seed source, the draw and the panel. Version 4 added
``inputs.pool.allow_empty_household`` (households compared by the normalised key,
docs/households.md) and the per-person M-panel lottery (docs/transparent.md); version 3 records
are still verified. Version 5 added ``inputs.pool.pseudonyms`` (the ids are keyed pseudonyms,
sortition.privacy; null when they are the pool file's own ids) and the fair algorithms'
``distribution.certificate`` (the objective, the bound on its optimum, the value reached and
the gap; docs/algorithms.md). Version 6 added ``inputs.pool.publish_types`` (null, or with
``--publish-types`` the type counts in place of the people: sortition.record.types) and, with
``--diversity-within``, ``parameters.diversity_within`` and ``distribution.diversity`` (the best
score, its proven bound, the limit every panel meets, the smallest probability with and without
it; docs/diversity.md); its fair algorithms' walks and covering take cheap steps (an LP vertex
rounded and repaired; sortition.engine.walks), so ``verify --recompute`` runs a record's algorithm
the way its version made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Protocol

from sortition import __version__
from sortition.model import Instance
from sortition.record.canonical import pool_digest, pseudonymised_pool, quota_rows, quotas_digest
from sortition.seeds import seed_from_text

RECORD_VERSION = 6
READABLE_VERSIONS = (3, 4, 5, 6)  # the selection record versions verify (and draw) read

# A person needs a panel of an M-panel lottery when pi * M >= 1 - COVERAGE_TOL (float noise in
# pi = 1/M); docs/transparent.md.
COVERAGE_TOL = 1e-9


def needs_a_panel(probability: float, m: int) -> bool:
    """Whether a person with this probability must be on at least one of an M-panel lottery's
    m panels: probability >= 1/m, up to float noise (COVERAGE_TOL). The lottery promises it
    (sortition.selection.transparent) and verify checks it."""
    return probability * m >= 1.0 - COVERAGE_TOL


class SeedLike(Protocol):
    """What the record needs of a seed: its string and how to describe its source
    (``sortition.seeds.Seed``)."""

    @property
    def value(self) -> str: ...

    def as_record(self) -> dict[str, Any]: ...


def as_seed(seed: SeedLike | str) -> SeedLike:
    """A seed; one given as text is ``sortition.seeds.seed_from_text(text)`` (``--seed TEXT``)."""
    return seed_from_text(seed) if isinstance(seed, str) else seed


@dataclass(frozen=True)
class InputFiles:
    """What the record says of the input files: names (not paths) and raw SHA-256 digests."""

    pool_name: str
    pool_sha256: str
    quotas_name: str
    quotas_sha256: str
    id_column: str | None
    household_columns: tuple[str, ...]
    allow_empty_household: bool = False  # people with an empty household cell live alone
    pseudonyms: dict[str, Any] | None = None  # how the ids were made pseudonyms (None: as read)


def tool_versions() -> dict[str, str]:
    return {"sortition": __version__, "ortools": version("ortools")}


def input_digests(instance: Instance, files: InputFiles) -> dict[str, Any]:
    """The record's ``inputs``: canonical digests of the pool and quotas, and the raw files'."""
    pool, quotas = instance.pool, instance.quotas
    return {
        "pool": {
            "digest": pool_digest(pool, quotas),
            "file": files.pool_name,
            "file_sha256": files.pool_sha256,
            "people": pool.size,
            "id_column": files.id_column,
            "household_columns": list(files.household_columns),
            "allow_empty_household": files.allow_empty_household,
            "pseudonyms": files.pseudonyms,
        },
        "quotas": {
            "digest": quotas_digest(quotas),
            "file": files.quotas_name,
            "file_sha256": files.quotas_sha256,
        },
    }


def commitment_record(
    instance: Instance,
    files: InputFiles,
    algorithm: str,
    parameters: dict[str, Any],
    distribution: dict[str, Any] | None = None,
    probabilities: dict[str, float] | None = None,
    lottery: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything of a record that is fixed before the seed exists (``commitment.json``)."""
    inputs = input_digests(instance, files)
    inputs["pool"]["publish_types"] = None  # version 6: --publish-types, sortition.record.types
    commitment: dict[str, Any] = {
        "kind": "selection",
        "version": RECORD_VERSION,
        "tool": tool_versions(),
        "inputs": inputs,
        "k": instance.k,
        "algorithm": algorithm,
        "parameters": parameters,
    }
    if lottery is not None:
        commitment["lottery"] = lottery
    if probabilities is not None:
        commitment["probabilities"] = probabilities
    if distribution is not None:
        commitment["distribution"] = distribution
    commitment["quotas"] = quota_rows(instance.quotas)
    commitment["pool"] = pseudonymised_pool(instance.pool, instance.quotas)
    return commitment


def selection_record(
    commitment: dict[str, Any],
    commitment_sha256: str,
    seed: SeedLike,
    draw: dict[str, Any],
    panel_ids: list[str],
) -> dict[str, Any]:
    """The record: the commitment's digest, the seed, the draw and the panel first (what a reader
    wants), then everything the commitment fixed."""
    head = ("kind", "version", "tool")
    record: dict[str, Any] = {key: commitment[key] for key in head}
    record["commitment"] = {"sha256": commitment_sha256}
    record["seed"] = seed.as_record()
    record["draw"] = draw
    record["panel"] = panel_ids
    record.update({key: value for key, value in commitment.items() if key not in head})
    return record
