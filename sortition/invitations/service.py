"""The invitation lottery as one service call: read the registry, draw, write (what the CLI and
``verify`` call). The rules live in ``sortition.invitations.ranking`` and
``sortition.invitations.allocation``."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from sortition.invitations.allocation import StratumAllocation
from sortition.invitations.ranking import (
    ChunkHashes,
    InvitedRow,
    allocation_row,
    finish,
    hash_chunk,
    invitation_record,
    plan_invitations,
)
from sortition.invitations.registry import (
    Registry,
    RegistryColumns,
    iter_batches,
    open_registry,
    read_rows,
    resolve_columns,
)
from sortition.io.outputs import (
    PRIVATE_FOLDER,
    atomic_output_dir,
    private_folder,
    write_csv,
    write_json,
)
from sortition.io.tables import PathLike
from sortition.privacy.keys import PseudonymKey
from sortition.privacy.personal import refuse_personal_ids
from sortition.privacy.pseudonyms import Pseudonyms, pseudonymise
from sortition.progress import Progress, RowsRead
from sortition.record.build import SeedLike
from sortition.record.canonical import file_sha256

ENGINES = ("local", "dask")
RANK_COLUMN = "invitation_rank"
PSEUDONYM_TABLE = "pseudonyms.csv"  # DIR/private/: each invited id and its pseudonym


@dataclass(frozen=True)
class InviteRequest:
    registry_path: Path
    letters: int
    id_column: str = "id"
    household_columns: tuple[str, ...] = ()
    stratify_by: str | None = None
    weights: dict[str, Fraction] | None = None
    engine: str = "local"
    scheduler: str | None = None
    allow_empty_household: bool = False  # a person with an empty household cell lives alone
    pseudonym_key: PseudonymKey | None = None  # the record names the invited by pseudonyms
    ids_are_public: bool = False  # without a key, ids that look personal are refused


@dataclass(frozen=True)
class InviteResult:
    registry: Registry
    columns: RegistryColumns
    allocation: list[StratumAllocation]
    invited: list[InvitedRow]
    record: dict[str, Any]
    pseudonyms: Pseudonyms | None = None  # of the invited, in the order of ``invited``


def local_chunks(
    registry: Registry, columns: RegistryColumns, seed: str, progress: Progress | None = None
) -> list[ChunkHashes]:
    """Each batch of the registry hashed (``progress`` hears RowsRead after each batch)."""
    chunks = []
    rows = 0
    for batch in iter_batches(registry, columns.names):
        chunks.append(hash_chunk(batch, columns, seed))
        rows += batch.num_rows
        if progress is not None:
            progress(RowsRead(rows))
    return chunks


def draw_invitations(
    request: InviteRequest, seed: SeedLike, progress: Progress | None = None
) -> InviteResult:
    registry = open_registry(request.registry_path)
    columns = resolve_columns(
        registry,
        request.id_column,
        request.household_columns,
        request.stratify_by,
        request.allow_empty_household,
    )
    guard = request.pseudonym_key is None and not request.ids_are_public
    if guard:  # a column named email, phone ...: refused before the registry is read
        refuse_personal_ids([], columns.id, registry.name)
    with ThreadPoolExecutor(1) as pool:  # the file's SHA-256 on the other core meanwhile
        raw_digest = pool.submit(file_sha256, registry.path)
        if request.engine == "dask":
            from sortition.invitations.distributed import dask_chunks

            chunks = dask_chunks(registry, columns, seed.value, request.scheduler)
        else:
            chunks = local_chunks(registry, columns, seed.value, progress)

        def fetch(positions: Sequence[int]) -> dict[int, dict[str, str]]:
            return read_rows(registry, positions)

        plan = plan_invitations(
            chunks, columns, request.letters, request.weights or {}, registry.name, fetch
        )
        rows = fetch([m for invitation in plan.invitations for m in invitation.members])
        invited = finish(plan, columns, seed.value, rows, registry.name)
        file_digest = raw_digest.result()
    if guard:  # the ids the record would publish
        refuse_personal_ids([row.id for row in invited], columns.id, registry.name, row=False)
    pseudonyms = None
    if request.pseudonym_key is not None:
        pseudonyms = pseudonymise(request.pseudonym_key, [row.id for row in invited])
    record = invitation_record(
        seed=seed,
        registry={
            "file": registry.name,
            "file_sha256": file_digest,
            "format": registry.format,
            "rows": plan.rows,
            "households": plan.households,
            "id_column": columns.id,
            "household_columns": list(columns.households),
            "allow_empty_household": columns.allow_empty_household,
            "stratify_by": columns.stratum,
            "pseudonyms": None if pseudonyms is None else pseudonyms.describe(),
        },
        letters=request.letters,
        allocation=plan.allocation,
        invited=invited,
        ids=None if pseudonyms is None else pseudonyms.names,
    )
    return InviteResult(registry, columns, plan.allocation, invited, record, pseudonyms)


def write_invitations(result: InviteResult, out: PathLike, force: bool = False) -> list[Path]:
    """``invitations.csv`` (the invited rows, every registry column, and their rank),
    ``allocation.csv`` and ``record.json``, all at once; with a pseudonym key also
    ``private/pseudonyms.csv`` (each invited id and its pseudonym, in the record's order)."""
    out = Path(out)
    header = list(result.registry.header)
    rank_column = RANK_COLUMN if RANK_COLUMN not in header else RANK_COLUMN + "_sha256"
    names = ["invitations.csv", "allocation.csv", "record.json"]
    with atomic_output_dir(out, force) as staging:
        write_csv(
            staging / names[0],
            [*header, rank_column],
            [[row.row[c] for c in header] + [row.rank] for row in result.invited],
        )
        write_csv(
            staging / names[1],
            ["stratum", "households", "weight", "letters", "all_households"],
            [
                [str(v).lower() if isinstance(v, bool) else str(v) for v in line.values()]
                for line in map(allocation_row, result.allocation)
            ],
        )
        write_json(staging / names[2], result.record)
        if result.pseudonyms is not None:
            table = private_folder(staging) / PSEUDONYM_TABLE
            rows = zip((row.id for row in result.invited), result.pseudonyms.names, strict=True)
            write_csv(table, ["id", "pseudonym"], list(rows))
            names.append(f"{PRIVATE_FOLDER}/{PSEUDONYM_TABLE}")
    return [out / name for name in names]
