"""`sortition invite`: the rank rule, households, order independence, formats, record and verify."""

from __future__ import annotations

import csv
import hashlib
import json
import random
import unicodedata
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import pytest

from sortition.households import household_key
from sortition.invitations.allocation import allocate
from sortition.invitations.ranking import rank, rank_digest
from sortition.synthetic.registries import generate_registry, write_registry
from tests.helpers import run_cli

HOUSEHOLDS = "address,postcode"
STRATIFIED = ("--household-columns", HOUSEHOLDS, "--stratify-by", "area")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("registry") / "registry.csv"
    write_registry(generate_registry(3000, 6, "tests"), path)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def invite(registry: Path, out: Path, *extra: object) -> Path:
    result = run_cli(
        [
            "invite",
            "--registry",
            registry,
            "--letters",
            60,
            "--seed",
            "town hall",
            "--out",
            out,
            *extra,
        ]
    )
    assert result.exit_code == 0, result.stderr
    return out


def plain_key(row: dict[str, str]) -> str:
    """docs/households.md written out plainly: NFKC, casefold, NFKC, whitespace runs to one
    space (str.split splits on exactly that whitespace), cells joined by 0x1F."""
    return "\x1f".join(
        " ".join(unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", c).casefold()).split())
        for c in (row["address"], row["postcode"])
    )


def reference(
    rows: list[dict[str, str]], seed: str, letters: int, weights: dict[str, Fraction]
) -> list[str]:
    """The rule of docs/invitations.md written out plainly, one Python int per rank."""
    households: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        households[plain_key(row)].append(row)
    by_stratum: dict[str, list[str]] = defaultdict(list)
    for key, members in households.items():
        by_stratum[members[0]["area"]].append(key)
    shares = allocate({s: len(keys) for s, keys in by_stratum.items()}, weights, letters)
    invited = []
    for share in shares:
        keys = sorted(by_stratum[share.stratum], key=lambda k: rank(seed, k))[: share.letters]
        for key in keys:
            invited.append(min((m["id"] for m in households[key]), key=lambda i: rank(seed, i)))
    return invited


def test_rank_test_vector() -> None:
    digest = hashlib.sha256(b"sortition\x00P0001").digest()
    assert rank_digest("sortition", "P0001") == digest
    assert rank("sortition", "P0001") == int.from_bytes(digest, "big")
    # the vectors of docs/invitations.md, computed with `printf 'sortition\0P0001' | sha256sum`
    assert rank_digest("sortition", "P0001").hex() == (
        "06370b7957daf974323b43b6c500e71e3750c8a1db94f99008749d6edaf1a351"
    )
    # `printf 'sortition\000%s\037%s' '1 elm street' 'ab1 2cd' | sha256sum`: the normalised key
    household = household_key(["1 Elm Street", "AB1 2CD"])
    assert household == "1 elm street\x1fab1 2cd"
    assert rank_digest("sortition", household).hex() == (
        "4168eacc63618d810305d324de632fede092e7c6891d38e0462a5dce648de5a4"
    )
    # a person alone (--allow-empty-household): 0x1F and the id
    assert rank_digest("sortition", "\x1fP0001").hex() == (
        "0320add872ec57fd3019173382a0ec2f9e49625d1fa1ee63190b7be2b30b0f72"
    )
    ids = ["P0001", "P0002", "P0003"]
    assert sorted(ids, key=lambda i: rank("sortition", i)) == ["P0001", "P0002", "P0003"]


def test_invitations_follow_the_rule_by_hand(registry: Path, tmp_path: Path) -> None:
    out = invite(registry, tmp_path / "out", *STRATIFIED, "--weight", "area=area-2:2")
    rows = read_csv(registry)
    expected = reference(rows, "town hall", 60, {"area-2": Fraction(2)})
    invited = read_csv(out / "invitations.csv")
    assert [row["id"] for row in invited] == expected
    # one letter per household, and each row's rank is its household's
    keys = [(row["address"], row["postcode"]) for row in invited]
    assert len(set(keys)) == len(keys) == 60
    for row in invited:
        assert row["invitation_rank"] == rank_digest("town hall", plain_key(row)).hex()
    allocation = read_csv(out / "allocation.csv")
    assert sum(int(line["letters"]) for line in allocation) == 60
    assert {line["stratum"]: line["weight"] for line in allocation}["area-2"] == "2"
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["kind"] == "invitation" and record["version"] == 3
    assert [entry["id"] for entry in record["invitations"]] == expected
    text = (out / "record.json").read_text(encoding="utf-8")
    assert "Street" not in text  # pseudonymous ids only: no address reaches the record


def test_the_letter_goes_to_the_member_with_the_smallest_id_rank(tmp_path: Path) -> None:
    path = tmp_path / "family.csv"
    path.write_text(
        "id,address\nann,1 Elm\nbob,1 Elm\ncai,1 Elm\ndee,2 Oak\neve,3 Ash\n", encoding="utf-8"
    )
    out = invite_n(path, tmp_path / "out", 3, "--household-columns", "address")
    invited = read_csv(out / "invitations.csv")
    elm = [row for row in invited if row["address"] == "1 Elm"]
    assert len(invited) == 3 and len(elm) == 1
    assert elm[0]["id"] == min(["ann", "bob", "cai"], key=lambda i: rank("s", i))


def invite_n(registry: Path, out: Path, n: int, *extra: object) -> Path:
    result = run_cli(
        ["invite", "--registry", registry, "--letters", n, "--seed", "s", "--out", out, *extra]
    )
    assert result.exit_code == 0, result.stderr
    return out


def test_without_households_every_person_is_ranked_by_id(registry: Path, tmp_path: Path) -> None:
    out = invite(registry, tmp_path / "out")
    ids = [row["id"] for row in read_csv(registry)]
    expected = sorted(ids, key=lambda i: rank("town hall", i))[:60]
    assert [row["id"] for row in read_csv(out / "invitations.csv")] == expected
    assert read_csv(out / "allocation.csv") == [
        {
            "stratum": "all",
            "households": "3000",
            "weight": "1",
            "letters": "60",
            "all_households": "false",
        }
    ]


def test_file_order_and_format_do_not_matter(registry: Path, tmp_path: Path) -> None:
    args = STRATIFIED
    first = invite(registry, tmp_path / "a", *args)
    lines = registry.read_text(encoding="utf-8").splitlines(keepends=True)
    body = lines[1:]
    random.Random(7).shuffle(body)
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text(lines[0] + "".join(body), encoding="utf-8")
    second = invite(shuffled, tmp_path / "b", *args)
    parquet = tmp_path / "registry.parquet"
    write_registry(generate_registry(3000, 6, "tests"), parquet)
    third = invite(parquet, tmp_path / "c", *args)
    expected = (first / "invitations.csv").read_bytes()
    assert (second / "invitations.csv").read_bytes() == expected
    assert (third / "invitations.csv").read_bytes() == expected
    assert (second / "allocation.csv").read_bytes() == (first / "allocation.csv").read_bytes()


def test_small_chunks_give_the_same_result(
    registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = STRATIFIED
    whole = invite(registry, tmp_path / "a", *args)
    monkeypatch.setattr(
        "sortition.invitations.registry.CSV_BLOCK_BYTES", 4096
    )  # households span chunks
    chunked = invite(registry, tmp_path / "b", *args)
    assert (chunked / "invitations.csv").read_bytes() == (whole / "invitations.csv").read_bytes()


def test_weights_file(registry: Path, tmp_path: Path) -> None:
    weights = tmp_path / "weights.csv"
    weights.write_text("area,weight\narea-2,2\narea-5,1.5\n", encoding="utf-8")
    args = STRATIFIED
    by_file = invite(registry, tmp_path / "a", *args, "--weights", weights)
    by_flags = invite(
        registry, tmp_path / "b", *args, "--weight", "area=area-2:2", "--weight", "area=area-5:1.5"
    )
    assert (by_file / "record.json").read_bytes() == (by_flags / "record.json").read_bytes()


def test_verify_passes_and_catches_tampering(registry: Path, tmp_path: Path) -> None:
    out = invite(registry, tmp_path / "out", *STRATIFIED, "--weight", "area=area-3:3")
    record_path = out / "record.json"
    good = run_cli(["verify", record_path, "--registry", registry])
    assert good.exit_code == 0, good.stdout
    for name in ("allocation", "invitations", "registry file", "registry counts", "draw"):
        assert f"[ok] {name}:" in good.stdout
    original = json.loads(record_path.read_text(encoding="utf-8"))

    def tampered(change, *extra: object) -> str:
        data = json.loads(json.dumps(original))
        change(data)
        path = tmp_path / "tampered.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        result = run_cli(["verify", path, "--registry", registry, *extra])
        assert result.exit_code == 1, result.stdout
        return result.stdout

    def swap_id(data: dict) -> None:
        data["invitations"][0]["id"] = "P-somebody-else"

    assert "[MISMATCH] draw" in tampered(swap_id)

    def change_seed(data: dict) -> None:
        data["seed"]["value"] = "another seed"

    assert "[MISMATCH] draw" in tampered(change_seed)

    def move_a_letter(data: dict) -> None:
        strata = data["allocation"]["strata"]
        strata[0]["letters"] += 1
        strata[1]["letters"] -= 1

    stdout = tampered(move_a_letter)
    assert "[MISMATCH] allocation" in stdout and "[MISMATCH] invitations" in stdout

    def change_weight(data: dict) -> None:
        data["allocation"]["strata"][2]["weight"] = "1"

    assert "[MISMATCH] allocation" in tampered(change_weight)

    other = tmp_path / "other.csv"
    other.write_text(registry.read_text(encoding="utf-8").replace("area-3", "area-4"), "utf-8")
    result = run_cli(["verify", record_path, "--registry", other])
    assert result.exit_code == 1
    assert "[MISMATCH] registry file" in result.stdout
    assert "[MISMATCH] registry counts" in result.stdout
    assert "does not fit the record" in result.stdout

    lines = registry.read_text(encoding="utf-8").splitlines(keepends=True)
    header, first = lines[0], lines[1]
    moved = first.replace(first.split(",")[3], '"area-9"')  # one person moves to a new area
    other.write_text(header + moved + "".join(lines[2:]), encoding="utf-8")
    result = run_cli(["verify", record_path, "--registry", other])
    assert result.exit_code == 1
    assert "[MISMATCH] registry file" in result.stdout
    assert "[MISMATCH] registry counts" in result.stdout


def test_verify_with_a_missing_registry_exits_2(registry: Path, tmp_path: Path) -> None:
    out = invite(registry, tmp_path / "out")
    result = run_cli(["verify", out / "record.json", "--registry", tmp_path / "gone.csv"])
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_verify_without_the_registry_cannot_check_the_invitations(
    registry: Path, tmp_path: Path
) -> None:
    out = invite(registry, tmp_path / "out", "--stratify-by", "area")
    result = run_cli(["verify", out / "record.json"])
    assert result.exit_code == 2 and "give --registry" in result.stderr
    assert "match" not in result.stdout


def test_same_inputs_give_byte_identical_outputs(registry: Path, tmp_path: Path) -> None:
    args = STRATIFIED
    a, b = invite(registry, tmp_path / "a", *args), invite(registry, tmp_path / "b", *args)
    for name in ("invitations.csv", "allocation.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    record_a = json.loads((a / "record.json").read_text(encoding="utf-8"))
    record_b = json.loads((b / "record.json").read_text(encoding="utf-8"))
    assert record_a == record_b


def test_dice_seed(registry: Path, tmp_path: Path) -> None:
    result = run_cli(
        [
            "invite",
            "--registry",
            registry,
            "--letters",
            5,
            "--dice",
            "3,6,1",
            "--out",
            tmp_path / "out",
        ]
    )
    assert result.exit_code == 0, result.stderr
    record = json.loads((tmp_path / "out" / "record.json").read_text(encoding="utf-8"))
    assert record["seed"] == {"source": "dice", "value": "dice:3,6,1", "rolls": [3, 6, 1]}
    verified = run_cli(["verify", tmp_path / "out" / "record.json", "--registry", registry])
    assert verified.exit_code == 0


# name: (registry text, extra args, letters, fragments of the message)
BAD = {
    "missing id column": ("name,area\nann,a\n", [], 1, ["row 1", "no column 'id'", "--id-column"]),
    "duplicate ids": (
        "id,area\n1,a\n2,a\n3,b\n2,b\n",
        [],
        1,
        ["row 5", "'id'", "id '2' repeats row 3"],
    ),
    "empty id": ("id,area\n1,a\n ,a\n", [], 1, ["row 3", "'id'", "the id is empty"]),
    "unknown stratify column": (
        "id,area\n1,a\n",
        ["--stratify-by", "region"],
        1,
        ["no column 'region'", "--stratify-by"],
    ),
    "more letters than households": (
        "id,address\n1,x\n2,x\n3,y\n",
        ["--household-columns", "address"],
        3,
        ["--letters 3 is more than the 2 households"],
    ),
    "bad weight syntax": (
        "id,area\n1,a\n",
        ["--stratify-by", "area", "--weight", "area:a=2"],
        1,
        ["expected COL=VALUE:WEIGHT"],
    ),
    "weight for an unknown stratum": (
        "id,area\n1,a\n2,b\n",
        ["--stratify-by", "area", "--weight", "area=c:2"],
        1,
        ["stratum 'c'", "no row"],
    ),
    "household in two strata": (
        "id,address,area\n1,x,a\n2,x,b\n3,y,b\n",
        ["--household-columns", "address", "--stratify-by", "area"],
        1,
        ["row 3", "one stratum"],
    ),
    "unclosed quote": (
        'id,area\n1,a\n\n2,"b\n3,a\n',
        [],
        1,
        ["registry.csv, row 3, column 'area': a quote", "never closed"],
    ),
    "unclosed quote before the last column": (
        'id,area,age\n1,a,30\n2,"b,40\n3,a,50\n',
        [],
        1,
        ["registry.csv, row 3: a quote", "never closed"],
    ),
    "row with too many fields": (
        "id,area\n1,a\n2,b,x\n",
        [],
        1,
        ["registry.csv, row 3: has 3 fields where the header has 2"],
    ),
    "empty household": (
        "id,address\n1,x\n2,\n",
        ["--household-columns", "address"],
        1,
        ["row 3", "column 'address'", "the household cell is empty"],
    ),
    "one of two household cells empty": (
        "id,address,postcode\n1,x,A\n2,x, \n3,,A\n",
        ["--household-columns", "address,postcode"],
        1,
        ["row 3, column 'postcode'", "row 4, column 'address'", "the household cell is empty"],
    ),
    "allow empty household without household columns": (
        "id,address\n1,x\n",
        ["--allow-empty-household"],
        1,
        ["--allow-empty-household needs --household-columns"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_and_writes_nothing(case: str, tmp_path: Path) -> None:
    text, extra, n, fragments = BAD[case]
    path = tmp_path / "registry.csv"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(
        ["invite", "--registry", path, "--letters", n, "--seed", "s", "--out", out, *extra]
    )
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert not out.exists()


def test_missing_registry_file_exits_2(tmp_path: Path) -> None:
    result = run_cli(
        [
            "invite",
            "--registry",
            tmp_path / "nope.csv",
            "--letters",
            1,
            "--seed",
            "s",
            "--out",
            tmp_path / "out",
        ]
    )
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_option_conflicts_and_weight_files_exit_2(registry: Path, tmp_path: Path) -> None:
    weights = tmp_path / "weights.csv"
    weights.write_text("stratum,weight\narea-1,2\narea-2,-1\n", encoding="utf-8")
    base = ["invite", "--registry", registry, "--letters", 5, "--seed", "s", "--stratify-by"]
    cases = {
        "give --weight or --weights": ["area", "--weights", weights, "--weight", "area=area-1:2"],
        "weights.csv, row 3, column 'weight'": ["area", "--weights", weights],
        "--scheduler needs --engine dask": ["area", "--scheduler", "tcp://127.0.0.1:1"],
    }
    for fragment, extra in cases.items():
        result = run_cli([*base, *extra, "--out", tmp_path / "out"])
        assert result.exit_code == 2, (fragment, result.stderr)
        assert fragment in result.stderr
        assert not (tmp_path / "out").exists()


def test_a_small_stratum_gets_every_household_and_verifies(registry: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        ["invite", "--registry", registry, "--letters", 900, "--seed", "cap", *STRATIFIED,
         "--weight", "area=area-1:50", "--out", out]
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    allocation = {line["stratum"]: line for line in read_csv(out / "allocation.csv")}
    assert allocation["area-1"]["all_households"] == "true"
    assert allocation["area-1"]["letters"] == allocation["area-1"]["households"]
    assert sum(int(line["letters"]) for line in allocation.values()) == 900
    verified = run_cli(["verify", out / "record.json", "--registry", registry])
    assert verified.exit_code == 0, verified.stdout


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_latin1_registry_names_the_row_and_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delimiter: str
) -> None:
    """Issue 13, defect 11: a Latin-1 byte deep in a chunked registry is reported with its row."""
    monkeypatch.setattr("sortition.invitations.registry.CSV_BLOCK_BYTES", 4096)
    lines = [delimiter.join(["id", "name", "area"])]
    lines += [delimiter.join([str(i), f"Person {i}", "north"]) for i in range(3000)]
    lines[2500] = delimiter.join(["2499", "Zoë", "north"])  # row 2501
    path = tmp_path / "registry.csv"
    path.write_bytes("\n".join(lines).encode("latin-1") + b"\n")
    out = tmp_path / "out"
    result = run_cli(["invite", "--registry", path, "--letters", 5, "--seed", "s", "--out", out])
    assert result.exit_code == 2, result.stderr
    assert "registry.csv, row 2501, column 'name': is not UTF-8" in result.stderr
    assert "CSV UTF-8" in result.stderr
    assert not out.exists()
    header = path.read_bytes().replace(b"name", b"n\xe4me", 1)
    path.write_bytes(header)
    result = run_cli(["invite", "--registry", path, "--letters", 5, "--seed", "s", "--out", out])
    assert result.exit_code == 2
    assert "registry.csv, row 1: is not UTF-8" in result.stderr


def test_a_workbook_or_a_misnamed_registry_is_reported_as_what_it_is(tmp_path: Path) -> None:
    args = ["--letters", 1, "--seed", "s", "--out", tmp_path / "out"]
    book = tmp_path / "registry.xlsx"
    book.write_bytes(b"PK\x03\x04" + bytes(100))
    result = run_cli(["invite", "--registry", book, *args])
    assert result.exit_code == 2 and "read as CSV (UTF-8) or Parquet" in result.stderr
    named_csv = tmp_path / "registry.csv"
    named_csv.write_bytes(book.read_bytes())
    result = run_cli(["invite", "--registry", named_csv, *args])
    assert result.exit_code == 2 and "is not UTF-8 CSV text" in result.stderr


def test_addresses_on_two_lines_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quoted line breaks are read whole even where a chunk boundary falls inside one."""
    monkeypatch.setattr("sortition.invitations.registry.CSV_BLOCK_BYTES", 4096)
    lines = ["id,address,area"] + [f'{i},"{i % 700} High St\nTown",north' for i in range(2000)]
    path = tmp_path / "registry.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["--letters", 5, "--seed", "s", "--out", out, "--household-columns", "address"]
    result = run_cli(["invite", "--registry", path, *args])
    assert result.exit_code == 0, result.stderr
    assert "2000 rows, 700 households" in result.stdout
