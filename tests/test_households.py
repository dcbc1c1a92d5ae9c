"""One household key everywhere (issue 13, defect 6): `49 Saltings Lane` and ` 49  saltings LANE `
are one household in check, select, invite and match; an empty household cell is bad input unless
--allow-empty-household makes each such person a household of their own, and the records say so."""

from __future__ import annotations

import csv
import hashlib
import json
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.households import (
    SEPARATOR,
    WHITESPACE,
    household_key,
    normalise_arrow,
    normalise_cell,
)
from tests.helpers import run_cli, select_args

FULLWIDTH_49 = "\uff14\uff19"  # ４９

# ---------------------------------------------------------------------------------------------
# The key


def independent_key(cells: list[str]) -> str | None:
    """The documented rule, written out again: NFKC, casefold, NFKC, whitespace runs to one
    space (str.split() splits on exactly the documented whitespace), joined by 0x1F."""
    parts = [
        " ".join(unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", c).casefold()).split())
        for c in cells
    ]
    return None if any(p == "" for p in parts) else "\x1f".join(parts)


def test_the_documented_whitespace_is_what_str_split_splits_on() -> None:
    assert {chr(c) for c in range(0x110000) if chr(c).isspace()} == set(WHITESPACE)
    assert SEPARATOR in WHITESPACE


@pytest.mark.parametrize(
    "variant",
    [
        " 49  saltings LANE ",
        "49 SALTINGS LANE",
        "49\tSaltings\u00a0Lane",
        f"{FULLWIDTH_49} Saltings Lane",
        "\uff14\uff19\u3000\uff33\uff41\uff4c\uff54\uff49\uff4e\uff47\uff53 Lane",
    ],
)
def test_variants_of_one_address_have_one_key(variant: str) -> None:
    assert household_key([variant, "EV5 6RA"]) == household_key(["49 Saltings Lane", " ev5 6ra"])
    assert household_key([variant]) == "49 saltings lane"


def test_distinct_addresses_stay_distinct() -> None:
    assert household_key(["49 Saltings Lane"]) != household_key(["49 Saltings Lan"])
    assert household_key(["Rue de l'Église"]) != household_key(["Rue de l'Eglise"])
    # a cell cannot smuggle the separator in: it is whitespace, so it becomes a space
    assert household_key(["a\x1fb", "c"]) != household_key(["a", "b\x1fc"])


def test_any_empty_cell_means_no_key() -> None:
    assert household_key(["49 Saltings Lane", ""]) is None
    assert household_key(["", "EV5 6RA"]) is None
    assert household_key([" \t\u3000", "EV5 6RA"]) is None
    assert household_key(["\u200b", "EV5 6RA"]) == "\u200b\x1fev5 6ra"  # not whitespace: kept


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=3))
def test_key_matches_the_independent_rule_and_is_idempotent(cells: list[str]) -> None:
    key = household_key(cells)
    assert key == independent_key(cells)
    if key is not None:
        assert household_key(key.split(SEPARATOR)) == key
    for cell in cells:
        assert normalise_cell(normalise_cell(cell)) == normalise_cell(cell)


LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéÉçÇøØæÆßσΣжЖ0123456789-',/"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet=LETTERS, min_size=1, max_size=8), min_size=1, max_size=5),
    st.lists(st.text(alphabet=WHITESPACE, min_size=1, max_size=3), min_size=6, max_size=6),
    st.booleans(),
)
def test_key_is_invariant_under_case_and_whitespace(
    words: list[str], spaces: list[str], upper: bool
) -> None:
    plain = " ".join(words)
    changed = spaces[0] + "".join(w + s for w, s in zip(words, spaces[1:], strict=False))
    changed = changed.upper() if upper else changed.lower()
    assert normalise_cell(changed) == normalise_cell(plain)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=10), min_size=1, max_size=40))
def test_the_vectorised_rule_is_the_rule(cells: list[str]) -> None:
    assert normalise_arrow(pa.array(cells)).to_pylist() == [normalise_cell(c) for c in cells]


@pytest.mark.parametrize(
    "cells",
    [
        ["A\x1fB", " x\x0b\x0cy ", "\x1c", "Ab  C", "", "É"],  # controls
        ["49  Saltings Lane", "EV5 6RA ", " x", "Ab C"],  # double spaces only
        ["a ", " b"],  # two spaces only across cells: nothing to replace
        ["", ""],
    ],
)
def test_the_vectorised_rule_on_ascii_runs_and_chunks(cells: list[str]) -> None:
    chunked = pa.chunked_array([cells[:2], cells[2:]])
    assert normalise_arrow(chunked).to_pylist() == [normalise_cell(c) for c in cells]
    assert normalise_arrow(pa.array(cells)).to_pylist() == [normalise_cell(c) for c in cells]


# ---------------------------------------------------------------------------------------------
# Stage 2: check, select, commit/draw, verify

QUOTAS = "feature,value,min,max\ngender,female,0,3\ngender,male,0,3\n"


def _files(tmp_path: Path, pool: str) -> tuple[Path, Path]:
    (tmp_path / "pool.csv").write_text(pool, encoding="utf-8")
    (tmp_path / "quotas.csv").write_text(QUOTAS, encoding="utf-8")
    return tmp_path / "pool.csv", tmp_path / "quotas.csv"


# Three ways of typing one address, and one other household: at most two people can sit.
ONE_ADDRESS_THREE_WAYS = (
    "id,gender,address\n"
    "1,female,49 Saltings Lane\n"
    "2,male, 49  saltings LANE \n"
    f"3,female,{FULLWIDTH_49} SALTINGS LANE\n"
    "4,male,7 Kestrel Rise\n"
)


@pytest.mark.parametrize("command", ["check", "select"])
def test_one_address_typed_three_ways_is_one_household(tmp_path: Path, command: str) -> None:
    pool, quotas = _files(tmp_path, ONE_ADDRESS_THREE_WAYS)

    def args(k: int) -> Sequence[object]:
        households = ("--household-columns", "address")
        if command == "select":
            return select_args(pool, quotas, k, *households, seed="s", out=tmp_path / "out")
        return [command, "--pool", pool, "--quotas", quotas, "-k", k, *households]

    result = run_cli(args(3))
    assert result.exit_code == 3, (result.stdout, result.stderr)  # two households, three seats
    result = run_cli(args(2))
    assert result.exit_code == 0, result.stderr
    if command == "select":
        record = json.loads((tmp_path / "out" / "record.json").read_text(encoding="utf-8"))
        assert [row["household"] for row in record["pool"]] == [0, 0, 0, 1]
        assert record["inputs"]["pool"]["allow_empty_household"] is False


def _example_with_empty_cells(tmp_path: Path, example_dir: Path) -> tuple[Path, Path]:
    """The example pool with an empty address on row 3 and an empty postcode on row 5."""
    with (example_dir / "pool.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    rows[2][header.index("address")] = "  "
    rows[4][header.index("postcode")] = ""
    pool = tmp_path / "pool.csv"
    with pool.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return pool, example_dir / "quotas.csv"


@pytest.mark.parametrize("command", ["check", "select", "commit", "audit"])
def test_an_empty_household_cell_is_bad_input(
    tmp_path: Path, example_dir: Path, command: str
) -> None:
    pool, quotas = _example_with_empty_cells(tmp_path, example_dir)
    out = tmp_path / "out"
    args = [command, "--pool", pool, "--quotas", quotas, "-k", 20]
    args += ["--household-columns", "address,postcode"]
    if command != "check":
        args += ["--out", out]
    if command in ("select", "audit"):
        args += ["--seed", "s"]
    result = run_cli(args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "pool.csv, row 3, column 'address': the household cell is empty" in result.stderr
    assert "pool.csv, row 5, column 'postcode': the household cell is empty" in result.stderr
    assert "--allow-empty-household" in result.stderr
    assert not out.exists()


def test_allow_empty_household_makes_households_of_one_and_verifies(
    tmp_path: Path, example_dir: Path
) -> None:
    pool, quotas = _example_with_empty_cells(tmp_path, example_dir)
    out = tmp_path / "out"
    result = run_cli(
        select_args(
            pool,
            quotas,
            20,
            "--household-columns",
            "address,postcode",
            "--allow-empty-household",
            seed="s",
            out=out,
        )
    )
    assert result.exit_code == 0, result.stderr
    assert "2 people have an empty household cell" in result.stderr
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["inputs"]["pool"]["allow_empty_household"] is True
    with pool.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    alone = {rows[1]["id"], rows[3]["id"]}  # rows 3 and 5 of the file
    household = {row["id"]: row["household"] for row in record["pool"]}
    for person in alone:
        assert [p for p, h in household.items() if h == household[person]] == [person]
    verified = run_cli(["verify", out / "record.json", "--pool", pool, "--quotas", quotas])
    assert verified.exit_code == 0, verified.stdout
    assert "[ok] pool file" in verified.stdout


def test_allow_empty_household_reaches_commit_draw_and_verify(
    tmp_path: Path, example_dir: Path
) -> None:
    pool, quotas = _example_with_empty_cells(tmp_path, example_dir)
    common = ["--pool", pool, "--quotas", quotas, "-k", 20]
    common += ["--household-columns", "address,postcode", "--allow-empty-household"]
    committed = run_cli(["commit", *common, "--out", tmp_path / "c"])
    assert committed.exit_code == 0, committed.stderr
    commitment = tmp_path / "c" / "commitment.json"
    drawn = run_cli(
        ["draw", "--commitment", commitment, "--seed", "s", "--pool", pool, "--out", tmp_path / "d"]
    )
    assert drawn.exit_code == 0, drawn.stderr
    assert (tmp_path / "d" / "selected.csv").exists()
    verified = run_cli(["verify", tmp_path / "d" / "record.json", "--pool", pool])
    assert verified.exit_code == 0, verified.stdout


def test_allow_empty_household_needs_household_columns(tmp_path: Path, example_dir: Path) -> None:
    pool, quotas = example_dir / "pool.csv", example_dir / "quotas.csv"
    result = run_cli(
        ["check", "--pool", pool, "--quotas", quotas, "-k", 20, "--allow-empty-household"]
    )
    assert result.exit_code == 2
    assert "--allow-empty-household needs --household-columns" in result.stderr


# ---------------------------------------------------------------------------------------------
# Stage 1: invite, verify, match

REGISTRY = (
    "id,address,postcode\n"
    "P1,49 Saltings Lane,EV5 6RA\n"
    "P2, 49  SALTINGS lane ,ev5 6ra\n"
    f"P3,{FULLWIDTH_49} Saltings Lane,EV5\u00a06RA\n"
    "P4,7 Kestrel Rise,EV3 7HF\n"
)


def _rank(seed: str, key: bytes) -> str:
    return hashlib.sha256(seed.encode() + b"\x00" + key).hexdigest()


def _invite(registry: Path, out: Path, letters: int, *extra: object) -> list[dict[str, str]]:
    result = run_cli(
        [
            "invite",
            "--registry",
            registry,
            "--letters",
            letters,
            "--household-columns",
            "address,postcode",
            "--seed",
            "town hall",
            "--out",
            out,
            *extra,
        ]
    )
    assert result.exit_code == 0, result.stderr
    with (out / "invitations.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_invite_ranks_the_normalised_key(tmp_path: Path) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY, encoding="utf-8")
    invited = _invite(registry, tmp_path / "out", 2)
    record = json.loads((tmp_path / "out" / "record.json").read_text(encoding="utf-8"))
    assert record["version"] == 3
    assert record["inputs"]["registry"]["households"] == 2
    assert record["inputs"]["registry"]["allow_empty_household"] is False
    ranks = {row["id"]: row["invitation_rank"] for row in invited}
    saltings = _rank("town hall", b"49 saltings lane\x1fev5 6ra")
    kestrel = _rank("town hall", b"7 kestrel rise\x1fev3 7hf")
    recipient = min(["P1", "P2", "P3"], key=lambda i: _rank("town hall", i.encode()))
    assert ranks == {recipient: saltings, "P4": kestrel}


def test_invite_rank_test_vector_of_the_docs() -> None:
    from sortition.invitations.ranking import rank_digest

    key = household_key(["\uff11 Elm  STREET", " ab1 2cd"])
    assert key == "1 elm street\x1fab1 2cd"
    expected = hashlib.sha256(b"sortition\x001 elm street\x1fab1 2cd").hexdigest()
    assert rank_digest("sortition", key).hex() == expected
    docs = (Path(__file__).resolve().parents[1] / "docs" / "invitations.md").read_text("utf-8")
    assert expected in docs


def test_dask_partitions_use_the_same_key(tmp_path: Path) -> None:
    pytest.importorskip("dask")
    from sortition.invitations.distributed import dask_chunks
    from sortition.invitations.registry import open_registry, resolve_columns
    from sortition.invitations.service import local_chunks

    path = tmp_path / "registry.csv"
    path.write_text(REGISTRY + "P5,,EV5 6RA\n", encoding="utf-8")
    registry = open_registry(path)
    columns = resolve_columns(registry, "id", ("address", "postcode"), None, True)
    partitions = dask_chunks(registry, columns, "s", blocksize=60)
    chunks = local_chunks(registry, columns, "s")
    assert len(partitions) > 1
    remote = np.concatenate([p.ranks for p in partitions])
    assert np.array_equal(remote, np.concatenate([c.ranks for c in chunks]))
    assert len(np.unique(remote, axis=0)) == 3  # Saltings Lane, Kestrel Rise, and P5 alone


def test_invite_empty_household_cell_is_bad_input(tmp_path: Path) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY + "P5,,EV5 6RA\nP6,8 Kestrel Rise, \n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(
        [
            "invite",
            "--registry",
            registry,
            "--letters",
            1,
            "--household-columns",
            "address,postcode",
            "--seed",
            "s",
            "--out",
            out,
        ]
    )
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "registry.csv, row 6, column 'address': the household cell is empty" in result.stderr
    assert "registry.csv, row 7, column 'postcode': the household cell is empty" in result.stderr
    assert not out.exists()


def test_invite_allow_empty_household_ranks_each_person_alone_and_verifies(
    tmp_path: Path,
) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY + "P5,,EV5 6RA\nP6,,EV5 6RA\n", encoding="utf-8")
    out = tmp_path / "out"
    invited = _invite(registry, out, 4, "--allow-empty-household")
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["inputs"]["registry"]["allow_empty_household"] is True
    assert record["inputs"]["registry"]["households"] == 4  # P5 and P6 are not grouped
    ranks = {row["id"]: row["invitation_rank"] for row in invited}
    assert ranks["P5"] == _rank("town hall", b"\x1fP5")
    assert ranks["P6"] == _rank("town hall", b"\x1fP6")
    verified = run_cli(["verify", out / "record.json", "--registry", registry])
    assert verified.exit_code == 0, verified.stdout
    assert "[ok] draw" in verified.stdout


def test_verify_says_it_cannot_re_derive_a_version_1_household_record(tmp_path: Path) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY, encoding="utf-8")
    out = tmp_path / "out"
    _invite(registry, out, 1)
    path = out / "record.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["version"] = 1
    del record["inputs"]["registry"]["allow_empty_household"]
    path.write_text(json.dumps(record), encoding="utf-8")
    alone = run_cli(["verify", path])  # without the registry nothing can be re-derived
    assert alone.exit_code == 2 and "--registry" in alone.stderr
    result = run_cli(["verify", path, "--registry", registry])
    assert result.exit_code == 2, result.stdout
    assert "version 1" in result.stderr and "cannot re-derive" in result.stderr


def test_verify_re_derives_a_version_1_record_without_households(tmp_path: Path) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(
        ["invite", "--registry", registry, "--letters", 2, "--seed", "s", "--out", out]
    )
    assert result.exit_code == 0, result.stderr
    path = out / "record.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["version"] = 1
    del record["inputs"]["registry"]["allow_empty_household"]
    path.write_text(json.dumps(record), encoding="utf-8")
    verified = run_cli(["verify", path, "--registry", registry])
    assert verified.exit_code == 0, verified.stdout


def test_match_uses_the_household_key(tmp_path: Path) -> None:
    invitations = tmp_path / "invitations.csv"
    invitations.write_text("id,address,postcode\nP1,49 Saltings Lane,EV5 6RA\n", encoding="utf-8")
    registrations = tmp_path / "registrations.csv"
    registrations.write_text(
        "name,address,postcode\n"
        "Ann, 49  SALTINGS lane ,ev5 6ra\n"
        f"Bob,{FULLWIDTH_49} Saltings Lane,EV5\u00a06RA\n"
        "Cy,49 Saltings Lane,\n"
        "Di,49 Saltings Lan,EV5 6RA\n",
        encoding="utf-8",
    )
    result = run_cli(
        [
            "match",
            "--invitations",
            invitations,
            "--registrations",
            registrations,
            "--on",
            "address,postcode",
            "--out",
            tmp_path / "out",
        ]
    )
    assert result.exit_code == 0, result.stderr
    with (tmp_path / "out" / "pool.csv").open(encoding="utf-8", newline="") as handle:
        assert [row["name"] for row in csv.DictReader(handle)] == ["Ann", "Bob"]
    with (tmp_path / "out" / "rejected.csv").open(encoding="utf-8", newline="") as handle:
        reasons = {row["name"]: row["reason"] for row in csv.DictReader(handle)}
    assert reasons == {"Cy": "empty postcode", "Di": "no invitation matches"}
