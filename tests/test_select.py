"""`sortition select --algorithm legacy` as a user runs it: outputs, quotas, determinism."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from sortition.record.canonical import canonical_json, sha256_hex
from tests.helpers import (
    RUNNABLE,
    assert_panel_meets_quotas,
    read_rows,
    run_cli,
    runnable_instance,
    select_args,
)


@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_legacy_on_runnable_instances(tmp_path: Path, name: str) -> None:
    case = runnable_instance(name)
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        result = run_cli(
            select_args(
                case.pool,
                case.quotas,
                case.k,
                algorithm="legacy",
                seed="published-seed-42",
                out=out,
            )
        )
        assert result.exit_code == 0, result.stderr
        assert_panel_meets_quotas(out / "selected.csv", case.quotas, case.k)
        outs.append(out)
    for file in ("selected.csv", "remaining.csv", "record.json"):
        assert (outs[0] / file).read_bytes() == (outs[1] / file).read_bytes(), file


def test_check_on_runnable_instances() -> None:
    for name in sorted(RUNNABLE):
        case = runnable_instance(name)
        result = run_cli(["check", "--pool", case.pool, "--quotas", case.quotas, "-k", case.k])
        assert result.exit_code == 0, (name, result.stderr)
        assert "feasible" in result.stdout


def test_outputs_keep_every_row_and_column_in_order(tmp_path: Path) -> None:
    """On ces11_k60, whose file lists the ids out of order. The files are split from the panel
    the same way for every algorithm (io.pool.write_pool_split): LEGACY is quickest."""
    case = runnable_instance("ces11_k60")
    out = tmp_path / "out"
    result = run_cli(select_args(case.pool, case.quotas, case.k, algorithm="legacy", out=out))
    assert result.exit_code == 0, result.stderr
    header, original = read_rows(case.pool)
    selected_header, selected = read_rows(out / "selected.csv")
    remaining_header, remaining = read_rows(out / "remaining.csv")
    assert selected_header == header == remaining_header
    chosen = {tuple(r) for r in selected}
    assert [r for r in original if tuple(r) in chosen] == selected
    assert [r for r in original if tuple(r) not in chosen] == remaining
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert sorted(record["panel"]) == record["panel"]
    assert set(record["panel"]) == {r[0] for r in selected}


def test_record_contents(tmp_path: Path, example_dir: Path) -> None:
    out = tmp_path / "out"
    pool, quotas = example_dir / "pool.csv", example_dir / "quotas.csv"
    result = run_cli(
        select_args(
            pool,
            quotas,
            20,
            "--household-columns",
            "address,postcode",
            algorithm="legacy",
            seed="abc",
            out=out,
        )
    )
    assert result.exit_code == 0, result.stderr
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["kind"] == "selection" and record["version"] == 6
    assert set(record["tool"]) == {"sortition", "ortools"}
    assert record["seed"] == {"source": "seed", "value": "abc"}
    assert record["algorithm"] == "legacy" and record["k"] == 20
    # Pseudonymous: ids, households and quota features only; no names, e-mails or addresses.
    text = (out / "record.json").read_text(encoding="utf-8")
    header, rows = read_rows(pool)
    for column in ("first_name", "last_name", "email", "address", "postcode"):
        position = header.index(column)
        assert all(r[position] not in text for r in rows[:20]), column
    assert set(record["pool"][0]) == {"id", "household", "values"}
    # The digests are recomputable from the record itself (the canonical forms it embeds).
    assert record["inputs"]["pool"]["digest"] == sha256_hex(canonical_json(record["pool"]))
    assert record["inputs"]["quotas"]["digest"] == sha256_hex(canonical_json(record["quotas"]))
    # Household rule: no two panel members share a household.
    household = {row["id"]: row["household"] for row in record["pool"]}
    panel_households = [household[i] for i in record["panel"]]
    assert len(set(panel_households)) == len(panel_households)
    ids = [row["id"] for row in record["pool"]]
    assert ids == sorted(ids)
    first_seen: list[int] = []
    for row in record["pool"]:
        if row["household"] not in first_seen:
            first_seen.append(row["household"])
    assert first_seen == list(range(len(first_seen)))


@pytest.fixture(scope="module")
def gss_one(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`select` on gss_k150 (LEXIMIN, the default) with seed "one": its output folder, made once
    for the two tests below (a LEXIMIN run on gss_k150 takes about 4 s)."""
    case = runnable_instance("gss_k150")
    out = tmp_path_factory.mktemp("gss") / "one"
    result = run_cli(select_args(case.pool, case.quotas, case.k, seed="one", out=out))
    assert result.exit_code == 0, result.stderr
    return out


def test_same_seed_same_panel_different_seed_different_panel(tmp_path: Path, gss_one: Path) -> None:
    case = runnable_instance("gss_k150")
    panels = [json.loads((gss_one / "record.json").read_text())["panel"]]
    for n, seed in enumerate(["one", "two"]):
        out = tmp_path / str(n)
        result = run_cli(select_args(case.pool, case.quotas, case.k, seed=seed, out=out))
        assert result.exit_code == 0
        panels.append(json.loads((out / "record.json").read_text())["panel"])
    assert panels[0] == panels[1] != panels[2]


def test_shuffled_pool_file_gives_the_same_panel(tmp_path: Path, gss_one: Path) -> None:
    case = runnable_instance("gss_k150")
    header, rows = read_rows(case.pool)
    order = np.random.default_rng(0).permutation(len(rows))
    shuffled = tmp_path / "shuffled.csv"
    with shuffled.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows[i] for i in order)
    result = run_cli(select_args(shuffled, case.quotas, case.k, seed="one", out=tmp_path / "b"))
    assert result.exit_code == 0
    records = [json.loads((out / "record.json").read_text()) for out in (gss_one, tmp_path / "b")]
    assert records[0]["panel"] == records[1]["panel"]
    assert records[0]["inputs"]["pool"]["digest"] == records[1]["inputs"]["pool"]["digest"]
    assert (
        records[0]["inputs"]["pool"]["file_sha256"] != records[1]["inputs"]["pool"]["file_sha256"]
    )


def test_without_seed_a_fresh_seed_is_printed_and_recorded(
    tmp_path: Path, example_dir: Path
) -> None:
    out = tmp_path / "out"
    result = run_cli(select_args(example_dir / "pool.csv", example_dir / "quotas.csv", 20, out=out))
    assert result.exit_code == 0, result.stderr
    record = json.loads((out / "record.json").read_text())
    assert record["seed"]["source"] == "os"
    assert record["seed"]["value"] in result.stdout


def test_summary_shows_quota_pool_and_panel(tmp_path: Path, example_dir: Path) -> None:
    result = run_cli(
        select_args(
            example_dir / "pool.csv", example_dir / "quotas.csv", 20, seed="x", out=tmp_path / "o"
        )
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["feature", "value", "quota", "pool"]
    assert any("Old Town" in line and line.rstrip().endswith("ok") for line in lines)
