"""Privacy for `sortition replace` and `sortition alternates` (docs/privacy.md, docs/dropouts.md):
a panel drawn with --pseudonym-key from a pool keyed by e-mail address, replaced in two rounds
and verified with and without the key; no e-mail address in a publishable file; the key's
messages."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.dropouts.ids import IdList
from sortition.dropouts.service import replace_dropouts
from sortition.errors import InputError
from sortition.privacy.keys import PseudonymKey, read_key
from sortition.privacy.pseudonyms import pseudonym
from tests.helpers import run_cli, select_args

# Fifteen people keyed by e-mail address, in twelve households, k = 5.
PEOPLE = [
    ("ann@example.org", "female", "young", "1 High St"),
    ("bob@example.org", "male", "young", "1 High St"),
    ("cai@example.org", "female", "middle", "2 High St"),
    ("dee@example.org", "male", "middle", "3 High St"),
    ("eve@example.org", "female", "old", "4 Low Rd"),
    ("fay@example.org", "male", "old", "4 Low Rd"),
    ("gus@example.org", "female", "young", "5 Low Rd"),
    ("hal@example.org", "male", "middle", "6 Low Rd"),
    ("ida@example.org", "female", "old", "7 Mill Ln"),
    ("jon@example.org", "male", "young", "8 Mill Ln"),
    ("kim@example.org", "female", "middle", "9 Mill Ln"),
    ("lee@example.org", "male", "old", "9 Mill Ln"),
    ("max@example.org", "male", "young", "10 Mill Ln"),
    ("nia@example.org", "female", "old", "11 Mill Ln"),
    ("oz@example.org", "male", "middle", "12 Mill Ln"),
]
EMAILS = [person[0] for person in PEOPLE]
POOL = "email,gender,age,address\n" + "".join(",".join(p) + "\n" for p in PEOPLE)
QUOTAS = (
    "feature,value,min,max\n"
    "gender,female,2,3\ngender,male,2,3\n"
    "age,young,1,2\nage,middle,1,2\nage,old,1,2\n"
)
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
PUBLISHABLE = ("replacement.json", "alternates.json", "comparison.csv", "lottery.csv")


@pytest.fixture
def keyed(tmp_path: Path) -> Path:
    """pool.csv (ids are e-mail addresses), quotas.csv, the key, and panel/ drawn by select
    with the key (LEXIMIN, households)."""
    (tmp_path / "pool.csv").write_text(POOL, encoding="utf-8")
    (tmp_path / "quotas.csv").write_text(QUOTAS, encoding="utf-8")
    (tmp_path / "pseudonyms.key").write_bytes(KEY)
    (tmp_path / "other.key").write_bytes(OTHER_KEY)
    args = select_args(
        "pool.csv",
        "quotas.csv",
        5,
        "--id-column",
        "email",
        "--household-columns",
        "address",
        "--pseudonym-key",
        "pseudonyms.key",
        seed="s",
        out="panel",
    )
    result = run_cli(args, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    return tmp_path


def _record(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _email_of(folder: Path) -> dict[str, str]:
    """pseudonym -> e-mail address, from the organiser's private table."""
    with (folder / "private/pseudonyms.csv").open(encoding="utf-8") as handle:
        return {row["pseudonym"]: row["id"] for row in csv.DictReader(handle)}


def _emails(csv_path: Path) -> list[str]:
    with csv_path.open(encoding="utf-8") as handle:
        return [row["email"] for row in csv.DictReader(handle)]


def _replace(folder: Path, record: str, out: str, *extra: str) -> Any:
    return run_cli(
        ["replace", "--record", record, "--pool", "pool.csv", "--out", out, *extra], cwd=folder
    )


def _no_email_in(folder: Path) -> int:
    """Searches the bytes of every publishable file in ``folder`` for every e-mail address and
    for '@'; returns how many files were searched."""
    searched = 0
    for name in PUBLISHABLE:
        path = folder / name
        if not path.exists():
            continue
        data = path.read_bytes()
        searched += 1
        assert b"@" not in data, name
        for email in EMAILS:
            assert email.encode("utf-8") not in data, (name, email)
            assert email.split("@")[0].encode() + b"@" not in data
    return searched


def _round_one(keyed: Path, out: str = "round1") -> Any:
    """Round 1: two members dropped out, given by their e-mail addresses in a file."""
    members = _record(keyed / "panel/record.json")["panel"]
    email = _email_of(keyed / "panel")
    (keyed / "dropouts.txt").write_text(
        f"# said no on Monday\n{email[members[0]]}\n\n{email[members[3]]}\n", encoding="utf-8"
    )
    return _replace(
        keyed,
        "panel/record.json",
        out,
        "--dropouts",
        "dropouts.txt",
        "--seed",
        "r1",
        "--pseudonym-key",
        "pseudonyms.key",
    )


def test_keyed_two_rounds_then_verify_with_and_without_the_key(keyed: Path) -> None:
    key = read_key(keyed / "pseudonyms.key")
    members = _record(keyed / "panel/record.json")["panel"]
    email = _email_of(keyed / "panel")
    first = _round_one(keyed)
    assert first.exit_code == 0, first.stderr
    assert "may be published: replacement.json" in first.stdout
    assert "keep private (never publish): selected.csv, remaining.csv" in first.stdout
    assert "private/pseudonyms.csv" in first.stdout
    assert "by pseudonym" in first.stdout
    one = _record(keyed / "round1/replacement.json")
    assert one["dropouts"] == sorted([members[0], members[3]])
    assert one["inputs"]["pool"]["pseudonyms"]["key_fingerprint"] == key.fingerprint
    # every id of the record is a pseudonym of the key, in the pseudonyms' order
    assert set(one["panel"]) <= set(email) and one["panel"] == sorted(one["panel"])
    assert [row["id"] for row in one["pool"]] == sorted(row["id"] for row in one["pool"])
    for person in one["replacements"]:
        assert pseudonym(key, email[person]) == person
    # the organiser's files name people by e-mail address
    assert sorted(_emails(keyed / "round1/selected.csv")) == sorted(email[p] for p in one["panel"])
    assert _email_of(keyed / "round1") == email
    assert _no_email_in(keyed / "round1") == 1

    # round 2: a replacement drops out, given by the pseudonym copied from the record
    second = _replace(
        keyed,
        "round1/replacement.json",
        "round2",
        "--dropout",
        one["replacements"][0],
        "--seed",
        "r2",
        "--algorithm",
        "legacy",
        "--pseudonym-key",
        "pseudonyms.key",
    )
    assert second.exit_code == 0, second.stderr
    two = _record(keyed / "round2/replacement.json")
    assert two["round"] == 2 and two["previous"] == one
    assert two["dropouts"] == [one["replacements"][0]]
    assert _no_email_in(keyed / "round2") == 1

    with_key = run_cli(
        ["verify", "round2/replacement.json", "--pool", "pool.csv", "--quotas", "quotas.csv",
         "--pseudonym-key", "pseudonyms.key"],
        cwd=keyed,
    )  # fmt: skip
    assert with_key.exit_code == 0, with_key.stdout + with_key.stderr
    assert "[ok] selection: pseudonym key" in with_key.stdout
    assert "[ok] selection: pool file" in with_key.stdout
    assert "[ok] round 2: draw" in with_key.stdout
    public = run_cli(["verify", "round2/replacement.json"], cwd=keyed)
    assert public.exit_code == 0, public.stdout
    assert "[ok] round 1: draw" in public.stdout
    assert "pseudonym key" not in public.stdout


def test_verify_with_a_wrong_or_missing_key(keyed: Path) -> None:
    assert _round_one(keyed).exit_code == 0
    wrong = run_cli(
        ["verify", "round1/replacement.json", "--pool", "pool.csv",
         "--pseudonym-key", "other.key"],
        cwd=keyed,
    )  # fmt: skip
    assert wrong.exit_code == 1, wrong.stdout + wrong.stderr
    assert "MISMATCH" in wrong.stdout
    assert "selection: pseudonym key" in wrong.stdout
    missing = run_cli(["verify", "round1/replacement.json", "--pool", "pool.csv"], cwd=keyed)
    assert missing.exit_code == 2
    assert "--pseudonym-key" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_the_same_key_gives_byte_identical_outputs(keyed: Path) -> None:
    assert _round_one(keyed, "a").exit_code == 0
    assert _round_one(keyed, "b").exit_code == 0
    for name in ("replacement.json", "selected.csv", "remaining.csv", "private/pseudonyms.csv"):
        assert (keyed / "a" / name).read_bytes() == (keyed / "b" / name).read_bytes(), name


def test_replace_without_the_key_says_it_is_needed(keyed: Path) -> None:
    members = _record(keyed / "panel/record.json")["panel"]
    result = _replace(keyed, "panel/record.json", "r", "--dropout", members[0], "--seed", "x")
    assert result.exit_code == 2
    assert "record.json" in result.stderr
    assert "keyed pseudonyms" in result.stderr and "--pseudonym-key" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (keyed / "r").exists()


def test_replace_with_another_key_says_so(keyed: Path) -> None:
    members = _record(keyed / "panel/record.json")["panel"]
    result = _replace(
        keyed, "panel/record.json", "r", "--dropout", members[0], "--seed", "x",
        "--pseudonym-key", "other.key",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "fingerprint" in result.stderr and "another key" in result.stderr
    assert not (keyed / "r").exists()


def test_a_dropout_not_on_the_panel_is_named_as_given(keyed: Path) -> None:
    members = _record(keyed / "panel/record.json")["panel"]
    email = _email_of(keyed / "panel")
    outsider = next(e for p, e in sorted(email.items()) if p not in members)
    (keyed / "dropouts.txt").write_text(f"{outsider}\n", encoding="utf-8")
    result = _replace(
        keyed, "panel/record.json", "r", "--dropouts", "dropouts.txt", "--seed", "x",
        "--pseudonym-key", "pseudonyms.key",
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"'{outsider}' is in the pool but not on the current panel" in result.stderr
    assert "dropouts.txt" in result.stderr and "row 1" in result.stderr
    unknown = _replace(
        keyed, "panel/record.json", "r", "--dropout", "zed@example.org", "--seed", "x",
        "--pseudonym-key", "pseudonyms.key",
    )  # fmt: skip
    assert unknown.exit_code == 2
    assert "'zed@example.org' is not on the current panel" in unknown.stderr


def test_unavailable_people_are_given_by_email(keyed: Path) -> None:
    members = _record(keyed / "panel/record.json")["panel"]
    email = _email_of(keyed / "panel")
    declined = [p for p in sorted(email) if p not in members][:2]
    (keyed / "declined.txt").write_text("".join(email[p] + "\n" for p in declined))
    result = _replace(
        keyed, "panel/record.json", "r", "--dropout", email[members[1]], "--unavailable",
        "declined.txt", "--seed", "x", "--pseudonym-key", "pseudonyms.key",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    record = _record(keyed / "r/replacement.json")
    assert record["unavailable"] == declined
    assert not set(declined) & {row["id"] for row in record["pool"]}
    assert _no_email_in(keyed / "r") == 1


def test_personal_ids_without_pseudonyms_need_ids_are_public(tmp_path: Path) -> None:
    (tmp_path / "pool.csv").write_text(POOL, encoding="utf-8")
    (tmp_path / "quotas.csv").write_text(QUOTAS, encoding="utf-8")
    (tmp_path / "pseudonyms.key").write_bytes(KEY)
    args = select_args(
        "pool.csv", "quotas.csv", 5, "--id-column", "email", "--ids-are-public", seed="s",
        out="panel",
    )  # fmt: skip
    assert run_cli(args, cwd=tmp_path).exit_code == 0
    member = _record(tmp_path / "panel/record.json")["panel"][0]
    refused = _replace(tmp_path, "panel/record.json", "r", "--dropout", member, "--seed", "x")
    assert refused.exit_code == 2
    assert "look personal" in refused.stderr and "pool.csv" in refused.stderr
    assert not (tmp_path / "r").exists()
    keyed = _replace(
        tmp_path, "panel/record.json", "r", "--dropout", member, "--seed", "x",
        "--pseudonym-key", "pseudonyms.key",
    )  # fmt: skip
    assert keyed.exit_code == 2 and "leave out --pseudonym-key" in keyed.stderr
    stated = _replace(
        tmp_path, "panel/record.json", "r", "--dropout", member, "--seed", "x",
        "--ids-are-public",
    )  # fmt: skip
    assert stated.exit_code == 0, stated.stderr
    assert "may be published: replacement.json" in stated.stdout
    alternates = run_cli(
        ["alternates", "--record", "panel/record.json", "--pool", "pool.csv", "--budget", "2",
         "--dropout-rate", "0.2", "--seed", "a", "--scenarios", "10", "--evaluate", "20",
         "--out", "alt"],
        cwd=tmp_path,
    )  # fmt: skip
    assert alternates.exit_code == 2 and "look personal" in alternates.stderr


def _alternates(folder: Path, out: str, *extra: str) -> Any:
    return run_cli(
        ["alternates", "--record", "panel/record.json", "--pool", "pool.csv", "--budget", "2",
         "--dropout-rate", "0.2", "--seed", "a", "--scenarios", "20", "--evaluate", "50",
         "--out", out, *extra],
        cwd=folder,
    )  # fmt: skip


def test_keyed_alternates_then_replace_from_them(keyed: Path) -> None:
    missing = _alternates(keyed, "alt")
    assert missing.exit_code == 2 and "--pseudonym-key" in missing.stderr
    assert not (keyed / "alt").exists()
    result = _alternates(keyed, "alt", "--pseudonym-key", "pseudonyms.key")
    assert result.exit_code == 0, result.stderr
    assert "may be published: comparison.csv, alternates.json" in result.stdout
    assert "keep private (never publish): alternates.csv, private/pseudonyms.csv" in result.stdout
    record = _record(keyed / "alt/alternates.json")
    email = _email_of(keyed / "alt")
    assert set(record["alternates"]) <= set(email)
    assert sorted(_emails(keyed / "alt/alternates.csv")) == sorted(
        email[p] for p in record["alternates"]
    )
    assert _no_email_in(keyed / "alt") == 2
    again = _alternates(keyed, "alt2", "--pseudonym-key", "pseudonyms.key")
    assert again.exit_code == 0
    assert (keyed / "alt2/alternates.json").read_bytes() == (
        keyed / "alt/alternates.json"
    ).read_bytes()
    assert run_cli(["verify", "alt/alternates.json"], cwd=keyed).exit_code == 0

    member = _record(keyed / "panel/record.json")["panel"][2]
    picked = _replace(
        keyed, "panel/record.json", "fa", "--dropout", email[member], "--from-alternates", "alt",
        "--pseudonym-key", "pseudonyms.key",
    )  # fmt: skip
    assert picked.exit_code == 0, picked.stderr
    replacement = _record(keyed / "fa/replacement.json")
    assert set(replacement["replacements"]) <= set(record["alternates"])
    assert replacement["inputs"]["pool"]["pseudonyms"]["key_fingerprint"] == (
        read_key(keyed / "pseudonyms.key").fingerprint
    )
    assert _no_email_in(keyed / "fa") == 1
    verified = run_cli(
        ["verify", "fa/replacement.json", "--pool", "pool.csv", "--pseudonym-key",
         "pseudonyms.key"],
        cwd=keyed,
    )  # fmt: skip
    assert verified.exit_code == 0, verified.stdout


def test_library_call_maps_ids_through_the_key(keyed: Path) -> None:
    key = read_key(keyed / "pseudonyms.key")
    members = _record(keyed / "panel/record.json")["panel"]
    email = _email_of(keyed / "panel")
    by_email = replace_dropouts(
        keyed / "panel/record.json", keyed / "pool.csv", [email[members[1]]], "lib",
        pseudonym_key=key,
    )  # fmt: skip
    by_pseudonym = replace_dropouts(
        keyed / "panel/record.json", keyed / "pool.csv", [members[1]], "lib", pseudonym_key=key
    )
    assert by_email.record == by_pseudonym.record
    assert by_email.record["dropouts"] == [members[1]]
    with pytest.raises(InputError, match="keyed pseudonyms"):
        replace_dropouts(keyed / "panel/record.json", keyed / "pool.csv", [members[1]], "lib")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1),
        min_size=1,
        max_size=8,
        unique=True,
    ),
    st.data(),
)
def test_an_id_and_its_pseudonym_map_to_the_same_pseudonym(ids: list[str], data: Any) -> None:
    key = PseudonymKey(KEY)
    known = {pseudonym(key, person) for person in ids}
    given_ids = [data.draw(st.sampled_from([p, pseudonym(key, p)])) for p in ids]
    listed = IdList(tuple(given_ids), (None,) * len(ids), (None,) * len(ids))
    mapped = listed.pseudonymised(key, 16, known)
    assert mapped.ids == tuple(pseudonym(key, person) for person in ids)
    assert mapped.given == tuple(given_ids)
    problem = mapped.problem(0, f"dropout '{mapped.ids[0]}' is not on the current panel")
    assert f"'{given_ids[0]}'" in problem.message
