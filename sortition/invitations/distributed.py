"""The invitation lottery's hashing on Dask (``--engine dask [--scheduler ADDRESS]``).

Each partition of the registry is hashed where it lies (``hash_chunk``, the same function the
local engine runs on its chunks) and returns only numbers; the reduction
(``plan_invitations``) then runs on the client exactly as on one machine, so a cluster gives the
invitations one machine gives. Partitions come back in file order, so record positions agree with
the local reader. Dask is the optional ``distributed`` extra:
``pip install 'sortition[distributed]'``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from sortition.errors import N_, InputError, problem
from sortition.invitations.ranking import ChunkHashes, hash_chunk
from sortition.invitations.registry import Registry, RegistryColumns, _as_text

CSV_BLOCKSIZE = "64MB"


def _hash_partition(frame: Any, columns: RegistryColumns, seed: str) -> ChunkHashes:
    table = pa.table({name: _as_text(pa.array(frame[name])) for name in columns.names})
    return hash_chunk(table, columns, seed)


def dask_chunks(
    registry: Registry,
    columns: RegistryColumns,
    seed: str,
    scheduler: str | None = None,
    blocksize: str | int = CSV_BLOCKSIZE,
) -> list[ChunkHashes]:
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        raise InputError(
            [problem(N_("--engine dask needs Dask: pip install 'sortition[distributed]'"))]
        ) from None
    names = columns.names
    if registry.format == "parquet":
        frame = dd.read_parquet(str(registry.path), columns=names)
    else:
        frame = dd.read_csv(
            str(registry.path),
            sep=registry.delimiter,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            usecols=names,
            blocksize=blocksize,
        )
        frame = frame.rename(columns=lambda name: str(name).removeprefix("\ufeff"))
    tasks = [dask.delayed(_hash_partition)(part, columns, seed) for part in frame.to_delayed()]
    if scheduler is None:
        return list(dask.compute(*tasks))
    try:
        from distributed import Client
    except ImportError:
        raise InputError(
            [
                problem(
                    N_("--scheduler needs dask.distributed: pip install 'sortition[distributed]'")
                )
            ]
        ) from None
    try:
        client = Client(scheduler, set_as_default=False, timeout=30)
    except OSError as error:
        raise InputError(
            [
                problem(
                    N_("cannot reach the Dask scheduler {scheduler}: {error}"),
                    scheduler=scheduler,
                    error=error,
                )
            ]
        ) from None
    with client:
        return list(client.gather(client.compute(tasks)))
