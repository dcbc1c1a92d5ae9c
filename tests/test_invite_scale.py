"""The Dask engine gives the local engine's invitations; `match`; `generate-registry`."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sortition.invitations.service import InviteRequest, draw_invitations
from sortition.seeds import seed_from_text
from sortition.synthetic.registries import generate_registry, write_registry
from tests.helpers import Result, run_cli


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_dask_local_cluster_gives_the_local_invitations(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    from sortition.invitations.distributed import dask_chunks
    from sortition.invitations.registry import open_registry, resolve_columns
    from sortition.invitations.service import local_chunks

    csv_path, parquet_path = tmp_path / "registry.csv", tmp_path / "registry.parquet"
    table = generate_registry(20_000, 8, "dask")
    write_registry(table, csv_path)
    pq.write_table(table, parquet_path, row_group_size=3_000)  # several partitions
    seed = seed_from_text("cluster")
    request = dict(
        letters=400,
        household_columns=("address", "postcode"),
        stratify_by="area",
        weights={"area-3": 2},
    )
    local = draw_invitations(InviteRequest(csv_path, **request), seed).record
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        for path in (csv_path, parquet_path):
            remote = draw_invitations(
                InviteRequest(path, engine="dask", scheduler=cluster.scheduler_address, **request),
                seed,
            ).record
            assert remote["invitations"] == local["invitations"]
            assert remote["allocation"] == local["allocation"]
        # small blocks: households and strata spread over many partitions, same numbers
        registry = open_registry(csv_path)
        columns = resolve_columns(registry, "id", ("address", "postcode"), "area")
        partitions = dask_chunks(
            registry, columns, "cluster", cluster.scheduler_address, blocksize=50_000
        )
        chunks = local_chunks(registry, columns, "cluster")
    assert len(partitions) > 5
    assert np.array_equal(
        np.concatenate([p.ranks for p in partitions]), np.concatenate([c.ranks for c in chunks])
    )


def test_match_splits_registrations(tmp_path: Path) -> None:
    invitations = tmp_path / "invitations.csv"
    invitations.write_text(
        "id,address,postcode,area,invitation_rank\n"
        "P1,1 Elm Street,AB1 2CD,north,00ab\nP7,9 Oak Road,XY9 8ZZ,south,00cd\n",
        encoding="utf-8",
    )
    registrations = tmp_path / "registrations.csv"
    registrations.write_text(
        "name,address,postcode,gender\n"
        "Ann,1 Elm Street,AB1 2CD,female\n"
        "Bob, 1 elm  street ,ab1 2cd,male\n"
        "Cai,2 Elm Street,AB1 2CD,male\n"
        "Dee,9 Oak Road,,female\n"
        "Eve,9 Oak Road,XY9 8ZZ,female\n",
        encoding="utf-8",
    )
    out = tmp_path / "stage2"

    def match(on: str, folder: Path) -> Result:
        files = ["--invitations", invitations, "--registrations", registrations]
        return run_cli(["match", *files, "--on", on, "--out", folder])

    result = match("address,postcode", out)
    assert result.exit_code == 0, result.stderr
    assert [row["name"] for row in read_csv(out / "pool.csv")] == ["Ann", "Bob", "Eve"]
    rejected = read_csv(out / "rejected.csv")
    assert [(row["name"], row["reason"]) for row in rejected] == [
        ("Cai", "no invitation matches"),
        ("Dee", "empty postcode"),
    ]
    missing = match("uprn", tmp_path / "other")
    assert missing.exit_code == 2 and "no column 'uprn'" in missing.stderr
    assert not (tmp_path / "other").exists()


def test_generate_registry(tmp_path: Path) -> None:
    path = tmp_path / "csv" / "registry.csv"
    result = run_cli(
        ["generate-registry", "--rows", 5000, "--strata", 7, "--seed", "g", "--out", path.parent]
    )
    assert result.exit_code == 0, result.stderr
    rows = read_csv(path)
    assert len(rows) == 5000 and len({row["id"] for row in rows}) == 5000
    sizes: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["address"], row["postcode"])
        sizes[key] = sizes.get(key, 0) + 1
    assert set(sizes.values()) <= set(range(1, 7)) and max(sizes.values()) >= 5
    areas: dict[str, int] = {}
    for row in rows:
        areas[row["area"]] = areas.get(row["area"], 0) + 1
    assert len(areas) <= 7 and max(areas.values()) > 2 * min(areas.values())  # skewed
    again = tmp_path / "parquet" / "registry.parquet"
    args = ["generate-registry", "--rows", 5000, "--strata", 7, "--seed", "g"]
    assert run_cli([*args, "--format", "parquet", "--out", again.parent]).exit_code == 0
    assert pq.read_table(again).to_pylist() == rows
