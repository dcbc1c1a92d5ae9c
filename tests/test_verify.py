"""`sortition verify`: an untouched record verifies; tampering with any one part fails exactly the
check that covers it (and the checks that depend on it), never with an exception."""

from __future__ import annotations

import copy
import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sortition.errors import InputError
from sortition.record.reader import canonical_inputs
from sortition.seeds import seed_from_text
from sortition.selection.service import load_input, select_panel, write_selection
from sortition.verify.items import VerifyReport
from sortition.verify.service import verify_record
from tests.helpers import EXAMPLE, runnable_instance


@dataclass(frozen=True)
class Made:
    """A record written by the library, with the files it was drawn from."""

    algorithm: str
    out: Path
    pool: Path
    quotas: Path

    @property
    def record_path(self) -> Path:
        return self.out / "record.json"

    def record(self) -> dict[str, Any]:
        return json.loads(self.record_path.read_text(encoding="utf-8"))


def _make(
    out: Path, pool: Path, quotas: Path, algorithm: str, households: tuple[str, ...] = ()
) -> Made:
    loaded = load_input(pool, quotas, 20, household_columns=households)
    selection = select_panel(loaded, algorithm, seed_from_text("verify me"))
    write_selection(selection, out)
    return Made(algorithm, out, pool, quotas)


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Made:
    out = tmp_path_factory.mktemp("legacy") / "out"
    return _make(
        out, EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", "legacy", ("address", "postcode")
    )


@pytest.fixture(scope="module")
def leximin(tmp_path_factory: pytest.TempPathFactory) -> Made:
    case = runnable_instance("example_small_20")
    out = tmp_path_factory.mktemp("leximin") / "out"
    return _make(out, case.pool, case.quotas, "leximin")


@pytest.fixture(params=["legacy", "leximin"])
def made(request: pytest.FixtureRequest) -> Made:
    return request.getfixturevalue(request.param)


def failed(report: VerifyReport) -> set[str]:
    return {item.name for item in report.items if not item.ok}


def names(report: VerifyReport) -> list[str]:
    return [item.name for item in report.items]


def write_record(path: Path, record: dict[str, Any]) -> Path:
    path.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return path


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]], newline: str = "\n") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator=newline).writerows([header, *rows])
    return path


# ---------------------------------------------------------------------------------------------
# Untouched records


def test_untouched_legacy_record_verifies(legacy: Made) -> None:
    alone = verify_record(legacy.record_path)
    assert alone.ok, alone.items
    assert names(alone) == [
        "record version",
        "commitment",
        "pool digest",
        "quotas digest",
        "panel size",
        "quotas met",
        "household rule",
        "draw",
    ]
    assert "re-runs LEGACY (1 attempt(s)): the recorded panel" in alone.item("draw").detail
    assert "no two panel members share a household" in alone.item("household rule").detail

    full = verify_record(legacy.record_path, legacy.pool, legacy.quotas, recompute=True)
    assert full.ok, full.items
    assert {"pool file", "quotas file", "recompute"} <= set(names(full))
    assert "file SHA-256 matches" in full.item("pool file").detail
    assert "LEGACY" in full.item("recompute").detail
    assert all("\n" not in item.detail for item in full.items)


def test_untouched_leximin_record_verifies(leximin: Made) -> None:
    alone = verify_record(leximin.record_path)
    assert alone.ok, alone.items
    assert {"draw", "distribution weights", "distribution panels", "probabilities"} <= set(
        names(alone)
    )
    assert "recompute" not in names(alone)

    full = verify_record(leximin.record_path, leximin.pool, leximin.quotas, recompute=True)
    assert full.ok, full.items
    assert "LEXIMIN run again" in full.item("recompute").detail
    assert "no household rule" in full.item("household rule").detail


def test_canonical_inputs_rebuild_the_digests(made: Made) -> None:
    from sortition.record.canonical import pool_digest, quotas_digest

    record = made.record()
    pool, quotas = canonical_inputs(record)
    assert pool_digest(pool, quotas) == record["inputs"]["pool"]["digest"]
    assert quotas_digest(quotas) == record["inputs"]["quotas"]["digest"]
    # The canonical forms do not depend on the order the record lists its rows in.
    shuffled = copy.deepcopy(record)
    shuffled["pool"].reverse()
    shuffled["quotas"].reverse()
    pool2, quotas2 = canonical_inputs(shuffled)
    assert pool_digest(pool2, quotas2) == record["inputs"]["pool"]["digest"]
    assert quotas_digest(quotas2) == record["inputs"]["quotas"]["digest"]


def test_resaved_files_verify_with_a_note(made: Made, tmp_path: Path) -> None:
    header, rows = read_csv(made.pool)
    if made.record()["inputs"]["pool"]["id_column"] is not None:
        rows.reverse()  # with an id column, the row order does not count
    pool = write_csv(tmp_path / "pool.csv", header, rows, newline="\r\n")
    header, rows = read_csv(made.quotas)
    quotas = write_csv(tmp_path / "quotas.csv", header, rows[::-1])
    report = verify_record(made.record_path, pool, quotas)
    assert report.ok, report.items
    assert "differs" in report.item("pool file").detail
    assert "differs" in report.item("quotas file").detail


# ---------------------------------------------------------------------------------------------
# Tampering with one part at a time


def test_reordered_pool_without_id_column_is_a_mismatch(leximin: Made, tmp_path: Path) -> None:
    """Without an id column the ids are row numbers, so the row order is part of the pool."""
    assert leximin.record()["inputs"]["pool"]["id_column"] is None
    header, rows = read_csv(leximin.pool)
    pool = write_csv(tmp_path / leximin.pool.name, header, rows[::-1])
    report = verify_record(leximin.record_path, pool, leximin.quotas)
    assert failed(report) == {"pool file"}


def test_tampered_pool_file_fails_only_the_pool_file(made: Made, tmp_path: Path) -> None:
    header, rows = read_csv(made.pool)
    column = header.index("gender")
    rows[0][column] = "male" if rows[0][column] == "female" else "female"
    pool = write_csv(tmp_path / made.pool.name, header, rows)
    report = verify_record(made.record_path, pool, made.quotas)
    assert failed(report) == {"pool file"}
    assert "record says" in report.item("pool file").detail


def test_pool_file_with_a_value_the_quotas_lack_is_a_mismatch(made: Made, tmp_path: Path) -> None:
    header, rows = read_csv(made.pool)
    rows[0][header.index("gender")] = "unknown"
    pool = write_csv(tmp_path / made.pool.name, header, rows)
    report = verify_record(made.record_path, pool)
    assert failed(report) == {"pool file"}
    assert "does not fit" in report.item("pool file").detail


def test_id_column_override(legacy: Made, tmp_path: Path) -> None:
    assert verify_record(legacy.record_path, legacy.pool, id_column="ID").ok
    report = verify_record(legacy.record_path, legacy.pool, id_column="email")
    assert failed(report) == {"pool file"}


def test_tampered_quotas_file_fails_only_the_quotas_file(made: Made, tmp_path: Path) -> None:
    header, rows = read_csv(made.quotas)
    position = header.index("max")
    rows[0][position] = str(int(rows[0][position]) + 1)
    quotas = write_csv(tmp_path / made.quotas.name, header, rows)
    report = verify_record(made.record_path, made.pool, quotas)
    assert failed(report) == {"quotas file"}
    assert "rows that differ" in report.item("quotas file").detail


def test_tampered_seed_fails_only_the_draw(made: Made, tmp_path: Path) -> None:
    record = made.record()
    record["seed"]["value"] = "verify me too"
    report = verify_record(write_record(tmp_path / "record.json", record), made.pool, made.quotas)
    assert failed(report) == {"draw"}


def _same_kind_outsider(record: dict[str, Any], leaving: str) -> str:
    """Someone off the panel who can take ``leaving``'s seat without breaking a quota or a
    household (and, on the types path, from the same unit)."""
    rows = {row["id"]: row for row in record["pool"]}
    panel = set(record["panel"])
    taken = {rows[p]["household"] for p in panel if p != leaving}
    candidates = [
        row["id"]
        for row in record["pool"]
        if row["id"] not in panel
        and row["values"] == rows[leaving]["values"]
        and (row["household"] is None or row["household"] not in taken)
    ]
    if "distribution" in record and record["distribution"]["path"] == "types":
        unit = next(u for u in record["distribution"]["units"] if leaving in u["members"])
        candidates = [c for c in candidates if c in unit["members"]]
    assert candidates
    return candidates[0]


def test_tampered_panel_id_fails_only_the_draw(made: Made, tmp_path: Path) -> None:
    record = made.record()
    record["panel"] = sorted(
        [*record["panel"][1:], _same_kind_outsider(record, record["panel"][0])]
    )
    report = verify_record(write_record(tmp_path / "record.json", record), made.pool, made.quotas)
    assert failed(report) == {"draw"}
    assert "which the seed does not give" in report.item("draw").detail


def test_panel_id_not_in_the_pool(made: Made, tmp_path: Path) -> None:
    record = made.record()
    record["panel"][0] = "nobody"
    report = verify_record(write_record(tmp_path / "record.json", record))
    assert {"panel size", "draw"} <= failed(report)
    assert "nobody" in report.item("panel size").detail
    assert report.item("pool digest").ok and report.item("quotas digest").ok


def test_tampered_embedded_pool_fails_the_pool_digest(made: Made, tmp_path: Path) -> None:
    record = made.record()
    row = next(r for r in record["pool"] if r["id"] not in record["panel"])
    row["values"]["gender"] = "male" if row["values"]["gender"] == "female" else "female"
    report = verify_record(write_record(tmp_path / "record.json", record), made.pool, made.quotas)
    assert "pool digest" in failed(report)
    assert report.item("pool file").ok  # the file still matches the record's digest
    assert report.item("quotas digest").ok and report.item("quotas file").ok


def test_tampered_distribution_weight(leximin: Made, tmp_path: Path) -> None:
    record = leximin.record()
    record["distribution"]["panels"][0]["weight"] += 0.01
    report = verify_record(
        write_record(tmp_path / "record.json", record), leximin.pool, leximin.quotas
    )
    bad = failed(report)
    assert "distribution weights" in bad
    assert "sum to" in report.item("distribution weights").detail
    # The probabilities follow from the weights, so they no longer match either; the inputs,
    # the recorded panel and the distribution's panels do not depend on the weights.
    assert "probabilities" in bad
    assert not bad & {
        "pool digest",
        "quotas digest",
        "pool file",
        "quotas file",
        "panel size",
        "quotas met",
        "household rule",
        "distribution panels",
    }


def test_negative_weight(leximin: Made, tmp_path: Path) -> None:
    record = leximin.record()
    panels = record["distribution"]["panels"]
    panels[0]["weight"], panels[1]["weight"] = -0.1, panels[1]["weight"] + panels[0]["weight"] + 0.1
    report = verify_record(write_record(tmp_path / "record.json", record))
    assert "negative" in report.item("distribution weights").detail


def test_tampered_probability_fails_probabilities_and_recompute(
    leximin: Made, tmp_path: Path
) -> None:
    record = leximin.record()
    person = next(iter(record["probabilities"]))
    record["probabilities"][person] += 0.05
    report = verify_record(write_record(tmp_path / "record.json", record), recompute=True)
    # Probabilities are committed before the seed, so the commitment digest no longer matches.
    assert failed(report) == {"commitment", "probabilities", "recompute"}
    assert f"'{person}'" in report.item("probabilities").detail


def test_infeasible_panel_in_the_distribution(leximin: Made, tmp_path: Path) -> None:
    record = leximin.record()
    counts = record["distribution"]["panels"][0]["counts"]
    counts[0][1] += 1  # one person too many
    report = verify_record(write_record(tmp_path / "record.json", record))
    assert "distribution panels" in failed(report)
    assert "panel 1" in report.item("distribution panels").detail


def test_tampered_panel_number_fails_the_draw(leximin: Made, tmp_path: Path) -> None:
    record = leximin.record()
    panels = len(record["distribution"]["panels"])
    record["draw"]["panel_number"] = record["draw"]["panel_number"] % panels + 1
    report = verify_record(write_record(tmp_path / "record.json", record))
    assert failed(report) == {"draw"}
    assert "the record's draw says" in report.item("draw").detail


# ---------------------------------------------------------------------------------------------
# Records that cannot be verified at all


def test_record_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_text("kind: selection\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"record\.json.*not JSON"):
        verify_record(path)


def test_missing_record_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        verify_record(tmp_path / "nothing.json")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "ballot"}, "unknown record kind"),
        ({"kind": None}, "no 'kind'"),
        ({"version": 7}, "version 7"),
        ({"seed": {"source": "seed"}}, "seed.value"),
        ({"panel": "A, B"}, "'panel' must be a list"),
        ({"quotas": []}, "no rows"),
    ],
)
def test_invalid_records(
    legacy: Made, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    record = legacy.record()
    record.update(change)
    if change.get("kind", "") is None:
        del record["kind"]
    with pytest.raises(InputError, match=message) as caught:
        verify_record(write_record(tmp_path / "record.json", record))
    assert "record.json" in str(caught.value)


def test_embedded_value_without_a_quota_row_is_invalid(legacy: Made, tmp_path: Path) -> None:
    record = legacy.record()
    record["pool"][0]["values"]["gender"] = "unknown"
    with pytest.raises(InputError, match="has no quota row"):
        verify_record(write_record(tmp_path / "record.json", record))


def test_unreadable_pool_file_is_input_error(legacy: Made, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        verify_record(legacy.record_path, tmp_path / "missing.csv")


def test_tampered_commitment_digest_fails_only_the_commitment(
    leximin: Made, tmp_path: Path
) -> None:
    record = leximin.record()
    record["commitment"]["sha256"] = "0" * 64
    report = verify_record(write_record(tmp_path / "record.json", record))
    assert failed(report) == {"commitment"}
