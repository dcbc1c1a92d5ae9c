"""Seed sources: text, the OS, beacons, dice and commit-reveal (docs/randomness.md, section 6)."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.errors import InputError
from sortition.randomness import SeededStream
from sortition.seeds import (
    Seed,
    fresh_os_seed,
    read_commitments,
    resolve_seed,
    seed_from_beacon,
    seed_from_dice,
    seed_from_reveals,
    seed_from_text,
)

BEACONS = Path(__file__).parent / "data" / "beacons"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_json(tmp_path: Path, data: Any, name: str = "beacon.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def problem_of(error: pytest.ExceptionInfo[InputError]) -> Any:
    assert len(error.value.problems) == 1, error.value.problems
    return error.value.problems[0]


# --- text and OS ---------------------------------------------------------------------------------


def test_text_seed_is_used_as_it_is() -> None:
    seed = seed_from_text("  Bürgerrat 2025 ")
    assert seed == Seed("  Bürgerrat 2025 ", "seed", {})
    assert seed.as_record() == {"source": "seed", "value": "  Bürgerrat 2025 "}


def test_empty_text_seed_is_refused() -> None:
    with pytest.raises(InputError, match="--seed"):
        seed_from_text("")


def test_text_seed_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(InputError, match="UTF-8"):
        seed_from_text("abc\udcff")  # what a non-UTF-8 command line byte becomes


def test_os_seed_is_32_lower_case_hex_digits_and_fresh() -> None:
    first, second = fresh_os_seed(), fresh_os_seed()
    assert first.source == "os"
    assert first.details == {}
    assert re.fullmatch(r"[0-9a-f]{32}", first.value)
    assert first.value != second.value
    assert first.as_record() == {"source": "os", "value": first.value}


# --- beacons -------------------------------------------------------------------------------------


def test_drand_beacon_file() -> None:
    data = json.loads((BEACONS / "drand.json").read_text())
    seed = seed_from_beacon(BEACONS / "drand.json")
    assert seed.source == "drand"
    assert seed.value == f"drand:3847316:{data['randomness']}"
    assert seed.details == {"round": 3847316, "randomness": data["randomness"]}
    assert seed.as_record() == {
        "source": "drand",
        "value": seed.value,
        "round": 3847316,
        "randomness": data["randomness"],
    }
    json.dumps(seed.as_record())  # serialisable


def test_nist_beacon_file_is_lower_cased() -> None:
    pulse = json.loads((BEACONS / "nist.json").read_text())["pulse"]
    output = pulse["outputValue"]
    assert output == output.upper() and len(output) == 128  # NIST publishes upper-case hex
    seed = seed_from_beacon(BEACONS / "nist.json")
    assert seed.source == "nist"
    assert seed.value == f"nist:1215720:{output.lower()}"
    assert seed.details == {
        "pulseIndex": 1215720,
        "timeStamp": "2024-05-01T12:00:00.000Z",
        "outputValue": output.lower(),
    }
    assert seed.as_record()["source"] == "nist"
    json.dumps(seed.as_record())


def test_drand_upper_case_randomness_is_lower_cased(tmp_path: Path) -> None:
    hex_ = "AB" * 32
    seed = seed_from_beacon(write_json(tmp_path, {"round": 7, "randomness": hex_}))
    assert seed.value == "drand:7:" + "ab" * 32
    assert seed.details["randomness"] == "ab" * 32


def test_beacon_seed_is_the_same_from_the_same_file(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere.json"
    copy.write_bytes((BEACONS / "nist.json").read_bytes())
    assert seed_from_beacon(copy) == seed_from_beacon(BEACONS / "nist.json")


def _nist(**changes: Any) -> dict[str, Any]:
    pulse = json.loads((BEACONS / "nist.json").read_text())["pulse"]
    for key, value in changes.items():
        if value is None:
            del pulse[key]
        else:
            pulse[key] = value
    return {"pulse": pulse}


GOOD_DRAND = {"round": 12, "randomness": "0f" * 32}


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"randomness": "0f" * 32}, "round", "missing"),
        ({"round": 12}, "randomness", "missing"),
        ({**GOOD_DRAND, "round": -1}, "round", "negative"),
        ({**GOOD_DRAND, "round": "12"}, "round", "whole number"),
        ({**GOOD_DRAND, "round": 12.5}, "round", "whole number"),
        ({**GOOD_DRAND, "round": True}, "round", "whole number"),
        ({**GOOD_DRAND, "randomness": "zz" * 32}, "randomness", "hexadecimal"),
        ({**GOOD_DRAND, "randomness": "0x" + "0f" * 31}, "randomness", "hexadecimal"),
        ({**GOOD_DRAND, "randomness": "0f" * 31}, "randomness", "64 hex digits"),
        ({**GOOD_DRAND, "randomness": 12345}, "randomness", "hex string"),
        (_nist(pulseIndex=None), "pulse.pulseIndex", "missing"),
        (_nist(pulseIndex=-3), "pulse.pulseIndex", "negative"),
        (_nist(pulseIndex="1215720"), "pulse.pulseIndex", "whole number"),
        (_nist(timeStamp=None), "pulse.timeStamp", "missing"),
        (_nist(timeStamp="yesterday"), "pulse.timeStamp", "ISO 8601"),
        (_nist(timeStamp=1714564800000), "pulse.timeStamp", "ISO 8601"),
        (_nist(outputValue=None), "pulse.outputValue", "missing"),
        (_nist(outputValue="AB" * 32), "pulse.outputValue", "128 hex digits"),
        (_nist(outputValue="G" * 128), "pulse.outputValue", "hexadecimal"),
        ({"pulse": "not an object"}, "pulse", "object"),
    ],
)
def test_malformed_beacon_names_file_and_field(
    tmp_path: Path, data: dict[str, Any], field: str, words: str
) -> None:
    path = write_json(tmp_path, data, "saved-beacon.json")
    with pytest.raises(InputError) as error:
        seed_from_beacon(path)
    problem = problem_of(error)
    assert problem.file == "saved-beacon.json"
    assert problem.column == field
    assert words in problem.message
    assert "saved-beacon.json" in str(error.value) and field in str(error.value)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json at all", "not valid JSON"),
        ('{"round": 3,', "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2, 3]", "JSON object"),
        ('{"beacon": "something else"}', "neither a drand beacon"),
    ],
)
def test_beacon_file_that_is_not_a_beacon(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "pulse.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as error:
        seed_from_beacon(path)
    problem = problem_of(error)
    assert problem.file == "pulse.json"
    assert words in problem.message


def test_beacon_with_a_repeated_field_is_ambiguous(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    path.write_text(
        f'{{"round": 3, "randomness": "{"0f" * 32}", "randomness": "{"f0" * 32}"}}',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as error:
        seed_from_beacon(path)
    assert problem_of(error).column == "randomness"
    assert "twice" in problem_of(error).message


def test_missing_beacon_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        seed_from_beacon(tmp_path / "nowhere.json")


def test_beacon_file_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD_DRAND).encode())
    assert seed_from_beacon(path).value == "drand:12:" + "0f" * 32


# --- dice ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rolls", "value"),
    [
        ("3,6,1", "dice:3,6,1"),
        ("3, 6,1", "dice:3,6,1"),
        ("  3 ,\t6 , 1  ", "dice:3,6,1"),
        ("0,9,19,20,99", "dice:0,9,19,20,99"),
        ("06,00", "dice:6,0"),
        ("4", "dice:4"),
    ],
)
def test_dice_are_normalised(rolls: str, value: str) -> None:
    seed = seed_from_dice(rolls)
    assert seed.value == value
    assert seed.source == "dice"
    assert seed.details == {"rolls": [int(r) for r in value.removeprefix("dice:").split(",")]}
    assert seed.as_record() == {"source": "dice", "value": value, **seed.details}


def test_dice_seed_matches_the_documented_test_vector() -> None:
    stream = SeededStream(seed_from_dice("3, 6, 1").value)
    assert [stream.below(1000) for _ in range(5)] == [764, 21, 64, 205, 76]


@pytest.mark.parametrize(
    ("rolls", "words"),
    [
        ("", "no rolls"),
        ("   ", "no rolls"),
        ("3,,1", "roll 2 of 3 is empty"),
        ("3,6,", "roll 3 of 3 is empty"),
        (",3", "roll 1 of 2 is empty"),
        ("3,six,1", "roll 2 of 3 ('six')"),
        ("3,-1", "roll 2 of 2 ('-1')"),
        ("+3", "roll 1 of 1 ('+3')"),
        ("3,1.5", "roll 2 of 2 ('1.5')"),
        ("3 6", "roll 1 of 1 ('3 6')"),
        ("3,100", "roll 2 of 2 (100) is above 99"),
        ("٣", "roll 1 of 1"),  # an Arabic-Indic digit is not a plain ASCII roll
    ],
)
def test_bad_dice_are_refused_naming_the_position(rolls: str, words: str) -> None:
    with pytest.raises(InputError) as error:
        seed_from_dice(rolls)
    assert words in str(error.value)
    assert "--dice" in str(error.value)


def test_every_bad_roll_is_reported() -> None:
    with pytest.raises(InputError) as error:
        seed_from_dice("x,2,,200")
    assert len(error.value.problems) == 3


@given(
    st.lists(st.integers(min_value=0, max_value=99), min_size=1, max_size=40),
    st.lists(st.sampled_from(["", " ", "  ", "\t"]), min_size=80, max_size=80),
)
def test_dice_strings_round_trip(rolls: list[int], spaces: list[str]) -> None:
    written = ",".join(f"{spaces[2 * i]}{r}{spaces[2 * i + 1]}" for i, r in enumerate(rolls))
    seed = seed_from_dice(written)
    assert seed.value == "dice:" + ",".join(str(r) for r in rolls)
    assert seed.details["rolls"] == rolls
    assert seed_from_dice(seed.value.removeprefix("dice:")) == seed


# --- commit-reveal -------------------------------------------------------------------------------

SECRETS = ["alice: purple otter 4417", "Bob's secret ✓", "carol-9f2c11"]


def write_commitments(tmp_path: Path, lines: list[str], name: str = "commitments.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def commitments(tmp_path: Path) -> Path:
    # Published in some order, one in upper case, with a comment and blank lines.
    digests = [sha(s) for s in SECRETS]
    return write_commitments(
        tmp_path,
        [
            "# commitments published 2025-03-01",
            "",
            digests[1].upper(),
            digests[0],
            "  ",
            digests[2],
        ],
    )


def expected_seed(secrets: list[str]) -> str:
    # From the spec, independently: sort the commitments as lower-case hex strings, concatenate
    # the secrets in that order (UTF-8), SHA-256, lower-case hex.
    ordered = sorted(secrets, key=lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest())
    return hashlib.sha256(b"".join(s.encode("utf-8") for s in ordered)).hexdigest()


def test_commit_reveal_seed(commitments: Path) -> None:
    seed = seed_from_reveals(SECRETS, commitments)
    assert seed.source == "commit-reveal"
    assert seed.value == expected_seed(SECRETS)
    assert re.fullmatch(r"[0-9a-f]{64}", seed.value)
    ordered = sorted(sha(s) for s in SECRETS)
    assert seed.details == {
        "commitments": ordered,
        "revealed": ordered,
        "secrets": sorted(SECRETS, key=sha),
        "missing": [],
        "allow_missing": False,
    }
    # The record keeps the revealed secrets: anyone can recompute the seed from it alone.
    assert expected_seed(seed.details["secrets"]) == seed.value
    record = seed.as_record()
    assert record["source"] == "commit-reveal" and record["value"] == seed.value
    json.dumps(record)


def test_commit_reveal_hand_computed_vector(tmp_path: Path) -> None:
    # sha256("a") = ca978112..., sha256("b") = 3e23e816...: "b" sorts first, so the seed is
    # sha256("ba").
    path = write_commitments(tmp_path, [sha("a"), sha("b")])
    assert sha("b") < sha("a")
    value = seed_from_reveals(["a", "b"], path).value
    assert value == hashlib.sha256(b"ba").hexdigest()
    # The example in docs/randomness.md, section 6.
    assert value == "970f519c2cadbcefb1e81694f904bc6229dd2a8300e98c6d0d4fc4bfca584140"


@settings(max_examples=30)
@given(st.permutations(SECRETS))
def test_order_of_reveals_does_not_matter(order: list[str]) -> None:
    # Not tmp_path: hypothesis runs the body many times within one test function call.
    with tempfile.TemporaryDirectory() as folder:
        path = write_commitments(Path(folder), [sha(s) for s in reversed(SECRETS)])
        assert seed_from_reveals(order, path).value == expected_seed(SECRETS)


def test_wrong_secret_is_refused_without_showing_it(commitments: Path) -> None:
    wrong = "mallory's guess"
    with pytest.raises(InputError) as error:
        seed_from_reveals([SECRETS[0], wrong, SECRETS[2]], commitments)
    text = str(error.value)
    assert "matches no commitment" in text
    assert "--reveal number 2" in text
    assert sha(wrong) in text
    assert wrong not in text


def test_repeated_reveal_is_refused(commitments: Path) -> None:
    with pytest.raises(InputError, match="repeats an earlier reveal"):
        seed_from_reveals([SECRETS[0], SECRETS[1], SECRETS[0], SECRETS[2]], commitments)


def test_empty_secret_is_refused(tmp_path: Path) -> None:
    path = write_commitments(tmp_path, [sha(""), sha("x")])
    with pytest.raises(InputError, match="is empty"):
        seed_from_reveals(["", "x"], path)


def test_no_reveals_is_refused(commitments: Path) -> None:
    with pytest.raises(InputError, match="at least one --reveal"):
        seed_from_reveals([], commitments)


def test_missing_reveal_stops_the_draw_naming_the_commitment(commitments: Path) -> None:
    with pytest.raises(InputError) as error:
        seed_from_reveals(SECRETS[:2], commitments)
    problem = problem_of(error)
    assert sha(SECRETS[2]) in problem.message
    assert "--allow-missing" in problem.message
    assert problem.file == "commitments.txt"


def test_missing_reveal_allowed_is_noted(commitments: Path) -> None:
    seed = seed_from_reveals([SECRETS[2], SECRETS[0]], commitments, allow_missing=True)
    present = [SECRETS[0], SECRETS[2]]
    assert seed.value == expected_seed(present)
    assert seed.details["missing"] == [sha(SECRETS[1])]
    assert seed.details["revealed"] == sorted(sha(s) for s in present)
    assert seed.details["commitments"] == sorted(sha(s) for s in SECRETS)
    assert seed.details["allow_missing"] is True
    assert seed.as_record()["missing"] == [sha(SECRETS[1])]


def test_allow_missing_with_everything_revealed_is_still_noted(commitments: Path) -> None:
    seed = seed_from_reveals(SECRETS, commitments, allow_missing=True)
    assert seed.value == expected_seed(SECRETS)
    assert seed.details["missing"] == []
    assert seed.details["allow_missing"] is True


def test_commitments_file_is_read_in_lower_case(commitments: Path) -> None:
    digests = read_commitments(commitments)
    assert digests == [sha(SECRETS[1]), sha(SECRETS[0]), sha(SECRETS[2])]


@pytest.mark.parametrize(
    ("lines", "rows", "words"),
    [
        (["# header", "", "abc123"], [3], "64 hex digits"),
        ([sha("a"), sha("b") + "0"], [2], "64 hex digits"),
        ([sha("a"), "z" * 64], [2], "64 hex digits"),
        ([sha("a"), "", sha("b"), sha("a").upper()], [4], "duplicate commitment"),
        (["nope", sha("a"), "0x" + sha("b")[2:]], [1, 3], "64 hex digits"),
        (["# only comments", ""], [None], "no commitments"),
    ],
)
def test_commitments_file_errors_name_the_line(
    tmp_path: Path, lines: list[str], rows: list[int | None], words: str
) -> None:
    path = write_commitments(tmp_path, lines, "commits.txt")
    with pytest.raises(InputError) as error:
        read_commitments(path)
    assert [p.row for p in error.value.problems] == rows
    assert all(p.file == "commits.txt" for p in error.value.problems)
    assert words in str(error.value)
    with pytest.raises(InputError):
        seed_from_reveals(["a"], path)


def test_duplicate_commitment_names_the_first_line(tmp_path: Path) -> None:
    path = write_commitments(tmp_path, [sha("a"), sha("b"), sha("a")])
    with pytest.raises(InputError) as error:
        read_commitments(path)
    assert "first on line 1" in str(error.value)
    assert "row 3" in str(error.value)


def test_missing_commitments_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        seed_from_reveals(["a"], tmp_path / "nowhere.txt")


# --- resolve_seed --------------------------------------------------------------------------------


def test_resolve_without_a_source_gives_a_fresh_os_seed() -> None:
    seed = resolve_seed(None, None, None, [], None, False)
    assert seed.source == "os"


def test_resolve_each_source(commitments: Path) -> None:
    assert resolve_seed("x", None, None, [], None, False) == seed_from_text("x")
    assert resolve_seed(None, BEACONS / "drand.json", None, [], None, False).source == "drand"
    assert resolve_seed(None, BEACONS / "nist.json", None, (), None, False).source == "nist"
    assert resolve_seed(None, None, "1, 2", [], None, False).value == "dice:1,2"
    seed = resolve_seed(None, None, None, SECRETS, commitments, False)
    assert seed.value == expected_seed(SECRETS)
    partial = resolve_seed(None, None, None, SECRETS[:1], commitments, True)
    assert len(partial.details["missing"]) == 2


def test_resolve_passes_on_source_errors() -> None:
    with pytest.raises(InputError, match="--seed"):
        resolve_seed("", None, None, [], None, False)
    with pytest.raises(InputError, match="no rolls"):
        resolve_seed(None, None, "", [], None, False)


@pytest.mark.parametrize(
    ("kwargs", "flags"),
    [
        ({"seed": "x", "dice": "1,2"}, ["--seed", "--dice"]),
        ({"seed": "x", "beacon": BEACONS / "drand.json"}, ["--seed", "--beacon"]),
        ({"beacon": BEACONS / "nist.json", "dice": "3"}, ["--beacon", "--dice"]),
        ({"seed": "x", "reveals": ["a"], "commitments": "C"}, ["--seed", "--reveal"]),
        ({"dice": "3", "reveals": ["a"], "commitments": "C"}, ["--dice", "--reveal"]),
        (
            {"seed": "x", "beacon": BEACONS / "drand.json", "dice": "3"},
            ["--seed", "--beacon", "--dice"],
        ),
    ],
)
def test_resolve_refuses_more_than_one_source(
    commitments: Path, kwargs: dict[str, Any], flags: list[str]
) -> None:
    arguments: dict[str, Any] = {
        "seed": None,
        "beacon": None,
        "dice": None,
        "reveals": [],
        "commitments": None,
        "allow_missing": False,
    }
    arguments.update(kwargs)
    if arguments["commitments"] == "C":
        arguments["commitments"] = commitments
    with pytest.raises(InputError) as error:
        resolve_seed(**arguments)
    text = str(error.value)
    assert "only one seed source" in text
    for flag in flags:
        assert flag in text


def test_resolve_reveal_needs_commitments_and_vice_versa(commitments: Path) -> None:
    with pytest.raises(InputError, match="--reveal needs --commitments"):
        resolve_seed(None, None, None, ["a"], None, False)
    with pytest.raises(InputError, match="--commitments needs at least one --reveal"):
        resolve_seed(None, None, None, [], commitments, False)


def test_resolve_allow_missing_alone_is_refused() -> None:
    with pytest.raises(InputError, match="--allow-missing"):
        resolve_seed("x", None, None, [], None, True)
    with pytest.raises(InputError, match="--allow-missing"):
        resolve_seed(None, None, None, [], None, True)


def test_resolve_accepts_a_lone_reveal_string(tmp_path: Path) -> None:
    path = write_commitments(tmp_path, [sha("only")])
    seed = resolve_seed(None, None, None, "only", path, False)  # type: ignore[arg-type]
    assert seed.value == sha("only")
