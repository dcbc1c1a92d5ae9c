"""Issue 20: keyed pseudonyms, safe by default, a record that can be published.

The pseudonym is checked against docs/privacy.md's test vector and against HMAC computed here;
the draw is re-derived from the public record alone with docs/randomness.md's second
implementation (tests/helpers.py); every publishable file is searched, byte by byte, for every
id of the pool.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import stat
import tempfile
from pathlib import Path
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.errors import InputError
from sortition.privacy import pseudonyms as pseudonym_module
from sortition.privacy.keys import PseudonymKey, new_key, read_key
from sortition.privacy.personal import personal_ids, why_personal
from sortition.privacy.pseudonyms import pseudonym, pseudonymise
from sortition.privacy.types import type_sizes
from sortition.record.canonical import pool_digest, pseudonymised_pool
from sortition.record.draw import commitment_sha256
from sortition.selection.service import load_input
from tests.helpers import (
    EXAMPLE,
    REPO,
    doc_below,
    doc_stream,
    read_rows,
    run_cli,
    runnable_instance,
)

VECTOR_KEY = b"sortition-test-key-0001"
HOUSEHOLDS = ("--household-columns", "address,postcode")


def key_file(folder: Path, secret: bytes = VECTOR_KEY, name: str = "test.key") -> Path:
    path = folder / name
    path.write_bytes(secret)
    return path


def example_pool(tmp_path: Path, id_column: str = "email") -> tuple[Path, Path, list[str]]:
    """The example town, with its e-mail addresses (or another column) as the id column: the
    pool, the quotas and every id of the pool."""
    pool, quotas = tmp_path / "pool.csv", tmp_path / "quotas.csv"
    pool.write_bytes((EXAMPLE / "pool.csv").read_bytes())
    quotas.write_bytes((EXAMPLE / "quotas.csv").read_bytes())
    header, rows = read_rows(pool)
    return pool, quotas, [row[header.index(id_column)] for row in rows]


# --------------------------------------------------------------------------- the pseudonym


def test_the_documented_test_vector() -> None:
    key = PseudonymKey(VECTOR_KEY)
    assert pseudonym(key, "ada@example.org") == "b6e4e48f0379d024"
    assert pseudonym(key, "P0001") == "363bca3d0bd479be"
    assert pseudonym(key, "ada@example.org", 64) == (
        "b6e4e48f0379d02492d699466721a8ee916f2c2573d2dec6127b080e31e96221"
    )
    assert key.fingerprint == "43638ef47580f9cb"


@pytest.mark.parametrize("identifier", ["ada@example.org", "Zoë Ölund", "0", "+44 20 7946 0000"])
def test_the_pseudonym_is_hmac_sha256_of_the_utf8_id(identifier: str) -> None:
    secret = bytes(range(40))
    expected = hmac.new(secret, identifier.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
    assert pseudonym(PseudonymKey(secret), identifier) == expected


def test_a_collision_lengthens_every_pseudonym(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pseudonym_module, "PSEUDONYM_LENGTH", 1)
    ids = [f"person-{i}" for i in range(100)]  # 100 ids cannot have 16 distinct first digits
    made = pseudonymise(PseudonymKey(VECTOR_KEY), ids)
    assert made.length == 9
    assert len(set(made.names)) == 100
    assert all(len(name) == 9 for name in made.names)
    assert made.names[0] == pseudonym(PseudonymKey(VECTOR_KEY), "person-0", 9)


def test_new_key_is_private_and_never_replaces_a_file(tmp_path: Path) -> None:
    path = tmp_path / "new.key"
    key = new_key(path)
    assert len(path.read_bytes()) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_key(path) == key
    before = path.read_bytes()
    with pytest.raises(InputError, match="already exists"):
        new_key(path)
    assert path.read_bytes() == before
    assert new_key(tmp_path / "other.key").secret != key.secret


def test_a_missing_or_short_key_is_bad_input_and_is_never_created(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such pseudonym key file"):
        read_key(tmp_path / "typo.key")
    assert not (tmp_path / "typo.key").exists()
    with pytest.raises(InputError, match="at least 16"):
        read_key(key_file(tmp_path, b"too short"))


# --------------------------------------------------------------------------- "looks personal"


@pytest.mark.parametrize(
    "identifier",
    [
        "ada@example.org",
        "Ada Lovelace",
        "lovelace, ada",
        "+44 20 7946 0000",
        "(020) 7946-0000",
        "0612-345678",
        "Zoë  Ölund",
    ],
)
def test_ids_that_look_personal(identifier: str) -> None:
    assert why_personal(identifier) is not None


@pytest.mark.parametrize(
    "identifier",
    ["12345678901", "r0000001", "EV-0122", "P0001", "24-0001", "nb_1234567", "g00001", "A-1 B"],
)
def test_ids_that_do_not(identifier: str) -> None:
    assert why_personal(identifier) is None


@pytest.mark.parametrize("column", ["email", "E-Mail", " Phone ", "tel", "MOBILE", "name", "mail"])
def test_columns_named_personal(column: str) -> None:
    found = personal_ids(["r1", "r2"], column)
    assert found is not None and found.index is None


def test_row_numbers_and_plain_ids_need_no_key() -> None:
    assert personal_ids(["Ada Lovelace"], None) is None  # no id column: row numbers
    assert personal_ids(["r1", "r2"], "id") is None
    found = personal_ids(["r1", "r2", "x@y.z"], "id")
    assert found is not None and found.index == 2


# --------------------------------------------------------------------------- safe by default


def personal_pool(tmp_path: Path, how: str) -> tuple[Path, Path, list[str]]:
    """The example town keyed by e-mail, phone number or name (in a column called 'ref')."""
    pool, quotas, _ = example_pool(tmp_path)
    header, rows = read_rows(pool)
    made = {
        "email": lambda i, row: row[header.index("email")],
        "phone": lambda i, row: f"+44 7700 9{i:05d}",
        "name": lambda i, row: (
            f"{row[header.index('first_name')]} {row[header.index('last_name')]} {i}"
        ),
    }[how]
    ids = [made(i, row) for i, row in enumerate(rows)]
    lines = [",".join(["ref", *header])] + [
        ",".join([identifier, *row]) for identifier, row in zip(ids, rows, strict=True)
    ]
    pool.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return pool, quotas, ids


@pytest.mark.parametrize("how", ["email", "phone", "name"])
@pytest.mark.parametrize("command", ["select", "commit", "audit"])
def test_personal_ids_are_refused_without_a_key(tmp_path: Path, how: str, command: str) -> None:
    pool, quotas, _ = personal_pool(tmp_path, how)
    out = tmp_path / "out"
    args = [command, "--pool", pool, "--quotas", quotas, "-k", 20, "--id-column", "ref"]
    args += ["--out", out] + (["--seed", "s"] if command != "commit" else [])
    if command == "audit":
        args += ["--algorithms", "maximin"]
    result = run_cli(args)
    assert result.exit_code == 2, result.stderr
    assert "pool.csv, row 2, column 'ref': the ids look personal" in result.stderr
    assert "sortition new-key" in result.stderr and "--ids-are-public" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_ids_are_public_states_they_are_not_personal(tmp_path: Path) -> None:
    pool, quotas, ids = personal_pool(tmp_path, "email")
    out = tmp_path / "out"
    result = run_cli(
        [
            "select",
            "--pool",
            pool,
            "--quotas",
            quotas,
            "-k",
            20,
            "--id-column",
            "ref",
            "--ids-are-public",
            "--seed",
            "s",
            "--out",
            out,
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert ids[0].encode() in (out / "record.json").read_bytes()
    assert not (out / "private").exists()


def test_a_missing_key_file_is_bad_input_and_not_created(tmp_path: Path) -> None:
    pool, quotas, _ = example_pool(tmp_path)
    result = run_cli(
        [
            "select",
            "--pool",
            pool,
            "--quotas",
            quotas,
            "-k",
            20,
            "--id-column",
            "email",
            "--pseudonym-key",
            tmp_path / "typo.key",
            "--seed",
            "s",
            "--out",
            tmp_path / "out",
        ]
    )
    assert result.exit_code == 2
    assert "typo.key: no such pseudonym key file" in result.stderr
    assert not (tmp_path / "typo.key").exists() and not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- what is published


PUBLISHABLE = ("record.json", "distribution.json", "lottery.csv", "commitment.json")
AUDIT_FILES = (
    "metrics.json",
    "inputs.json",
    "probabilities.csv",
    "report.html",
    "probabilities.png",
    "quotas.png",
)


def assert_no_id_in(folder: Path, names: tuple[str, ...], ids: list[str]) -> int:
    """No id of the pool appears in the bytes of any of the named files that exist; returns
    how many files were searched."""
    searched = 0
    for name in names:
        path = folder / name
        if not path.exists():
            continue
        data = path.read_bytes()
        searched += 1
        leaked = [identifier for identifier in ids if identifier.encode("utf-8") in data]
        assert not leaked, f"{name} holds {len(leaked)} ids of the pool, e.g. {leaked[0]}"
    return searched


def select_with_key(tmp_path: Path, out: Path, *extra: object) -> tuple[Path, list[str]]:
    pool, quotas, ids = example_pool(tmp_path)
    key = tmp_path / "test.key"
    if not key.exists():
        key_file(tmp_path)
    result = run_cli(
        [
            "select",
            "--pool",
            pool,
            "--quotas",
            quotas,
            "-k",
            20,
            "--id-column",
            "email",
            *HOUSEHOLDS,
            "--pseudonym-key",
            key,
            "--seed",
            "s",
            "--out",
            out,
            *extra,
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert "may be published: " in result.stdout
    kept = "selected.csv, remaining.csv, probabilities.csv, private/pseudonyms.csv"
    assert f"keep private (never publish): {kept}" in result.stdout
    return key, ids


def test_with_a_key_no_id_is_in_any_publishable_file(tmp_path: Path) -> None:
    out = tmp_path / "panel"
    key, ids = select_with_key(tmp_path, out, "--panels", 50)
    assert assert_no_id_in(out, PUBLISHABLE, ids) == 3  # record, distribution, lottery
    # the private files do name them: the test would see a leak
    assert (
        ids[0].encode()
        in (out / "selected.csv").read_bytes() + (out / "remaining.csv").read_bytes()
    )
    header, table = read_rows(out / "private" / "pseudonyms.csv")
    assert header == ["id", "pseudonym"]
    assert [row[0] for row in table] == ids  # the pool file's row order
    secret = PseudonymKey(VECTOR_KEY)
    assert all(row[1] == pseudonym(secret, row[0]) for row in table)
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["version"] == 6
    assert record["inputs"]["pool"]["pseudonyms"] == {
        "method": "HMAC-SHA256",
        "length": 16,
        "key_fingerprint": secret.fingerprint,
    }
    named = {row[1] for row in table}
    assert set(record["panel"]) <= named and set(record["probabilities"]) == named
    assert [person["id"] for person in record["pool"]] == sorted(named)
    # commit writes the same commitment; audit's report names nobody either
    commit_out, audit_out = tmp_path / "commit", tmp_path / "audit"
    pool, quotas = tmp_path / "pool.csv", tmp_path / "quotas.csv"
    common = [
        "--pool",
        pool,
        "--quotas",
        quotas,
        "-k",
        20,
        "--id-column",
        "email",
        *HOUSEHOLDS,
        "--pseudonym-key",
        key,
    ]
    assert run_cli(["commit", *common, "--out", commit_out]).exit_code == 0
    assert assert_no_id_in(commit_out, PUBLISHABLE, ids) == 1
    assert (commit_out / "private" / "pseudonyms.csv").exists()
    result = run_cli(
        ["audit", *common, "--algorithms", "maximin", "--seed", "a", "--out", audit_out]
    )
    assert result.exit_code == 0, result.stderr
    assert assert_no_id_in(audit_out, AUDIT_FILES, ids) == len(AUDIT_FILES)


def test_the_same_key_gives_byte_identical_outputs(tmp_path: Path) -> None:
    select_with_key(tmp_path, tmp_path / "a")
    select_with_key(tmp_path, tmp_path / "b")
    for name in (
        "record.json",
        "distribution.json",
        "probabilities.csv",
        "selected.csv",
        "private/pseudonyms.csv",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    # and --force replaces an earlier output with its private folder
    result = run_cli(
        [
            "select",
            "--pool",
            tmp_path / "pool.csv",
            "--quotas",
            tmp_path / "quotas.csv",
            "-k",
            20,
            "--id-column",
            "email",
            "--pseudonym-key",
            tmp_path / "test.key",
            "--seed",
            "t",
            "--out",
            tmp_path / "a",
            "--force",
        ]
    )
    assert result.exit_code == 0, result.stderr


def rederive_from_public_record(record: dict) -> list[str]:
    """docs/randomness.md section 5 and docs/distribution.md, from record.json alone, with the
    second implementation of the stream: no sortition import."""
    words = doc_stream(record["seed"]["value"])
    distribution = record["distribution"]
    tickets = [math.floor(panel["weight"] * 2**48) for panel in distribution["panels"]]
    r = doc_below(words, sum(tickets))
    running, index = 0, 0
    for index, count in enumerate(tickets):  # noqa: B007
        running += count
        if r < running:
            break
    chosen: list[str] = []
    for unit, count in distribution["panels"][index]["counts"]:
        members = list(distribution["units"][unit]["members"])
        assert members == sorted(members)  # in id order: the pseudonyms' order
        for i in range(count):
            j = i + doc_below(words, len(members) - i)
            members[i], members[j] = members[j], members[i]
        chosen += members[:count]
    assert record["draw"]["panel_number"] == index + 1
    return sorted(chosen)


def test_an_outsider_rederives_the_draw_from_the_public_record(tmp_path: Path) -> None:
    out = tmp_path / "panel"
    select_with_key(tmp_path, out)
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["distribution"]["path"] == "types"
    assert rederive_from_public_record(record) == record["panel"]
    assert run_cli(["verify", out / "record.json"]).exit_code == 0  # the record alone


# --------------------------------------------------------------------------- verify, draw


def test_verify_with_the_key_and_with_a_wrong_key(tmp_path: Path) -> None:
    out = tmp_path / "panel"
    key, _ = select_with_key(tmp_path, out)
    pool = tmp_path / "pool.csv"
    right = run_cli(["verify", out / "record.json", "--pool", pool, "--pseudonym-key", key])
    assert right.exit_code == 0, right.stdout
    assert "[ok] pseudonym key" in right.stdout and "[ok] pool file" in right.stdout
    wrong = key_file(tmp_path, b"another key, 16 bytes or more", "wrong.key")
    result = run_cli(["verify", out / "record.json", "--pool", pool, "--pseudonym-key", wrong])
    assert result.exit_code == 1
    assert "[MISMATCH] pool file: record says" in result.stdout
    assert "[MISMATCH] pseudonym key" in result.stdout
    no_key = run_cli(["verify", out / "record.json", "--pool", pool])
    assert no_key.exit_code == 2 and "--pseudonym-key FILE" in no_key.stderr


def test_commit_then_draw_with_the_key(tmp_path: Path) -> None:
    pool, quotas, ids = example_pool(tmp_path)
    key = key_file(tmp_path)
    common = ["--pool", pool, "--quotas", quotas, "-k", 20, "--id-column", "email"]
    assert (
        run_cli(["commit", *common, "--pseudonym-key", key, "--out", tmp_path / "c"]).exit_code == 0
    )
    commitment = tmp_path / "c" / "commitment.json"
    draw = ["draw", "--commitment", commitment, "--dice", "1,2,3", "--pool", pool]
    refused = run_cli([*draw, "--out", tmp_path / "d0"])
    assert refused.exit_code == 2 and "--pseudonym-key FILE" in refused.stderr
    wrong = key_file(tmp_path, b"another key, 16 bytes or more", "wrong.key")
    other = run_cli([*draw, "--pseudonym-key", wrong, "--out", tmp_path / "d1"])
    assert other.exit_code == 2 and "another key" in other.stderr
    alone = ["draw", "--commitment", commitment, "--dice", "1,2,3", "--pseudonym-key", key]
    without_pool = run_cli([*alone, "--out", tmp_path / "d2"])
    assert without_pool.exit_code == 2 and "give it with --pool" in without_pool.stderr
    result = run_cli([*draw, "--pseudonym-key", key, "--out", tmp_path / "d"])
    assert result.exit_code == 0, result.stderr
    assert assert_no_id_in(tmp_path / "d", PUBLISHABLE, ids) == 1
    header, rows = read_rows(tmp_path / "d" / "selected.csv")
    record = json.loads((tmp_path / "d" / "record.json").read_text(encoding="utf-8"))
    secret = PseudonymKey(VECTOR_KEY)
    drawn = sorted(pseudonym(secret, row[header.index("email")]) for row in rows)
    assert drawn == record["panel"]
    assert (tmp_path / "d" / "private" / "pseudonyms.csv").exists()


def test_new_key_and_pseudonym_commands(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    made = run_cli(["new-key", path])
    assert made.exit_code == 0 and "0600" in made.stdout
    assert run_cli(["new-key", path]).exit_code == 2
    vector = key_file(tmp_path)
    result = run_cli(
        ["pseudonym", "--pseudonym-key", vector, "--id", " ada@example.org ", "--id", "P0001"]
    )
    assert result.exit_code == 0
    assert result.stdout.split() == ["b6e4e48f0379d024", "363bca3d0bd479be"]
    missing = run_cli(["pseudonym", "--pseudonym-key", tmp_path / "nope.key", "--id", "x"])
    assert missing.exit_code == 2 and not (tmp_path / "nope.key").exists()


# --------------------------------------------------------------------------- what a record reveals


@pytest.mark.parametrize(
    ("name", "row"),
    [
        ("ces11_k60", (2231, 739, 353, 1042)),
        ("gss_k150", (6478, 440, 58, 417)),
        ("example_large_200", (2000, 3, 1, 1)),
        ("example_small_20", (200, 3, 1, 1)),
    ],
)
def test_docs_privacy_table_of_volunteers_alone_in_their_type(
    name: str, row: tuple[int, int, int, int]
) -> None:
    """docs/privacy.md section 6, measured again."""
    instance = runnable_instance(name)
    loaded = load_input(instance.pool, instance.quotas, instance.k, ids_are_public=True)
    sizes = type_sizes(loaded.instance.pool)
    assert (sizes.people, sizes.types, sizes.alone, sizes.in_small) == row
    text = (REPO / "docs" / "privacy.md").read_text(encoding="utf-8")
    people, types, alone, small = row
    shares = f"{alone} ({100 * alone / people:.1f} %) | {small} ({100 * small / people:.1f} %)"
    assert f"| {name} | {people} | {types} | {shares} |" in text


def test_docs_randomness_vector_in_pseudonym_order() -> None:
    """docs/randomness.md section 5: members in the pseudonyms' order, one sampled."""
    key = PseudonymKey(VECTOR_KEY)
    members = sorted(pseudonym(key, person) for person in ("ada@example.org", "P0001"))
    assert members == ["363bca3d0bd479be", "b6e4e48f0379d024"]
    words = doc_stream("sortition")
    assert members[doc_below(words, 2)] == "b6e4e48f0379d024"
    text = (REPO / "docs" / "randomness.md").read_text(encoding="utf-8")
    assert "gives `b6e4e48f0379d024` (`below(2)` = 1)" in text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=40, unique=True))
def test_pseudonyms_are_distinct_prefixes_of_the_hmac(ids: list[str]) -> None:
    key = PseudonymKey(VECTOR_KEY)
    made = pseudonymise(key, ids)
    assert len(set(made.names)) == len(ids)
    assert all(len(name) == made.length for name in made.names)
    assert all(
        pseudonym(key, identifier, 64).startswith(name)
        for identifier, name in zip(ids, made.names, strict=True)
    )
    assert made.describe()["length"] == made.length >= 16


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=30), st.text(max_size=10))
def test_digits_alone_never_look_personal_and_an_at_sign_always_does(
    digits: str, other: str
) -> None:
    assert why_personal(digits) is None
    assert why_personal(f"{other}@{digits}") is not None


# --------------------------------------------------------------------------- invitations


def registry(tmp_path: Path, column: str = "id") -> tuple[Path, list[str]]:
    """60 people keyed by e-mail address, two to a household."""
    ids = [f"person{i}@example.org" for i in range(60)]
    lines = [f"{column},address,postcode,area"] + [
        f"{person},{i // 2} Green St,GR{i % 3},area-{i % 4}" for i, person in enumerate(ids)
    ]
    path = tmp_path / "registry.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, ids


def test_invite_refuses_personal_ids_and_pseudonymises_with_a_key(tmp_path: Path) -> None:
    path, ids = registry(tmp_path)
    out = tmp_path / "letters"
    common = ["invite", "--registry", path, "--letters", 10, "--seed", "s", "--out", out,
              "--household-columns", "address,postcode", "--stratify-by", "area"]  # fmt: skip
    refused = run_cli(common)
    assert refused.exit_code == 2 and not out.exists()
    assert "registry.csv, column 'id': the ids look personal: the id contains '@'" in (
        refused.stderr
    )
    key = key_file(tmp_path)
    result = run_cli([*common, "--pseudonym-key", key])
    assert result.exit_code == 0, result.stderr
    assert "keep private (never publish): invitations.csv, private/pseudonyms.csv" in result.stdout
    assert assert_no_id_in(out, ("record.json", "allocation.csv"), ids) == 2
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["version"] == 3
    assert record["inputs"]["registry"]["pseudonyms"]["key_fingerprint"] == (
        PseudonymKey(VECTOR_KEY).fingerprint
    )
    text = (out / "record.json").read_text(encoding="utf-8")
    assert "Green St" not in text and "GR1" not in text  # never household cells
    header, rows = read_rows(out / "private" / "pseudonyms.csv")
    assert header == ["id", "pseudonym"]
    secret = PseudonymKey(VECTOR_KEY)
    assert [row[1] for row in rows] == [entry["id"] for entry in record["invitations"]]
    assert all(row[1] == pseudonym(secret, row[0]) for row in rows)
    checked = run_cli(["verify", out / "record.json", "--registry", path, "--pseudonym-key", key])
    assert checked.exit_code == 0, checked.stdout
    wrong = key_file(tmp_path, b"another key, 16 bytes or more", "wrong.key")
    mismatch = run_cli(
        ["verify", out / "record.json", "--registry", path, "--pseudonym-key", wrong]
    )
    assert mismatch.exit_code == 1 and "[MISMATCH] draw" in mismatch.stdout
    assert run_cli(["verify", out / "record.json", "--registry", path]).exit_code == 2


def test_invite_refuses_a_personal_id_column_before_reading_the_registry(tmp_path: Path) -> None:
    path, _ = registry(tmp_path, column="E-mail")
    result = run_cli(["invite", "--registry", path, "--id-column", "E-mail", "--letters", 5,
                      "--seed", "s", "--out", tmp_path / "out"])  # fmt: skip
    assert result.exit_code == 2
    assert "registry.csv, row 1, column 'E-mail': the ids look personal" in result.stderr
    public = run_cli(["invite", "--registry", path, "--id-column", "E-mail", "--letters", 5,
                      "--ids-are-public", "--seed", "s", "--out", tmp_path / "out"])  # fmt: skip
    assert public.exit_code == 0, public.stderr


def test_records_of_the_versions_before_still_verify(tmp_path: Path) -> None:
    """A selection record of version 4 and an invitation record of version 2 (no pseudonyms
    field) are still read and verified."""
    pool, quotas, _ = example_pool(tmp_path)
    out = tmp_path / "panel"
    made = run_cli(["select", "--pool", pool, "--quotas", quotas, "-k", 20, "--seed", "s",
                    "--out", out])  # fmt: skip
    assert made.exit_code == 0, made.stderr
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["inputs"]["pool"].pop("pseudonyms") is None
    record["version"] = 4
    record["commitment"]["sha256"] = commitment_sha256(record)
    old = tmp_path / "v4.json"
    old.write_text(json.dumps(record), encoding="utf-8")
    checked = run_cli(["verify", old, "--pool", pool, "--quotas", quotas])
    assert checked.exit_code == 0, checked.stdout
    assert "selection record version 4" in checked.stdout

    path, _ = registry(tmp_path)
    letters = tmp_path / "letters"
    invited = run_cli(["invite", "--registry", path, "--letters", 10, "--seed", "s",
                       "--ids-are-public", "--out", letters])  # fmt: skip
    assert invited.exit_code == 0, invited.stderr
    record = json.loads((letters / "record.json").read_text(encoding="utf-8"))
    assert record["inputs"]["registry"].pop("pseudonyms") is None
    record["version"] = 2
    old = tmp_path / "v2.json"
    old.write_text(json.dumps(record), encoding="utf-8")
    checked = run_cli(["verify", old, "--registry", path])
    assert checked.exit_code == 0, checked.stdout


@settings(max_examples=10, deadline=None)
@given(st.randoms(use_true_random=False))
def test_the_pseudonymised_pool_does_not_depend_on_the_row_order(rnd: Random) -> None:
    """With a key the canonical pool (sorted by pseudonym, households numbered in that order)
    and its digest are the same whatever the order of the pool file's rows."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        lines = (EXAMPLE / "pool.csv").read_text(encoding="utf-8").splitlines()
        body = lines[1:]
        rnd.shuffle(body)
        (folder / "shuffled.csv").write_text("\n".join([lines[0], *body]) + "\n", "utf-8")
        key = PseudonymKey(VECTOR_KEY)
        loaded = [
            load_input(path, EXAMPLE / "quotas.csv", 20, "email", HOUSEHOLDS[1].split(","),
                       pseudonym_key=key)
            for path in (EXAMPLE / "pool.csv", folder / "shuffled.csv")
        ]  # fmt: skip
        first, second = (item.instance for item in loaded)
        assert pseudonymised_pool(first.pool, first.quotas) == pseudonymised_pool(
            second.pool, second.quotas
        )
        assert pool_digest(first.pool, first.quotas) == pool_digest(second.pool, second.quotas)
        assert list(first.pool.ids) == sorted(first.pool.ids)
