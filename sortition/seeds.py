"""Where a draw's seed string comes from: given text, the operating system, or a public source.

The public sources (docs/randomness.md section 6 has the
full rules) are announced before the seed exists, so nobody, the organiser included, can choose it:

* a **beacon** value, read from a saved drand or NIST Beacon 2.0 JSON file (never fetched: the
  tool runs offline) -> ``drand:<round>:<hex>`` or ``nist:<pulseIndex>:<hex>``;
* **dice** rolled in public -> ``dice:`` followed by the rolls joined with commas;
* a **commit-reveal** of several parties: each publishes SHA-256(secret) first; the seed is the hex
  SHA-256 of the revealed secrets concatenated in the order of their sorted commitments.

Hex is written in lower case everywhere. A :class:`Seed` keeps, besides the seed string, what the
selection record should say about its source; none of it depends on the time or the machine.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sortition.errors import N_, InputError, Message, Problem, problem, require_file
from sortition.randomness import fresh_seed

DRAND_HEX_DIGITS = 64  # drand's randomness is SHA-256 of the round's signature
NIST_HEX_DIGITS = 128  # NIST Beacon 2.0's outputValue is a SHA-512 digest
COMMITMENT_HEX_DIGITS = 64  # SHA-256
MAX_DIE = 99  # 0..99 covers d6, d10, d20 and percentile dice

_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9a-fA-F]*")


@dataclass(frozen=True)
class Seed:
    """A seed string and what the record keeps about where it came from."""

    value: str
    source: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """``{"source": ..., "value": ..., **details}``, a fresh JSON-serialisable dict."""
        return {"source": self.source, "value": self.value, **copy.deepcopy(self.details)}


def _check_utf8(text: str, what: str | Message) -> None:
    # Text from a command line that was not valid UTF-8 arrives with lone surrogates; the seeded
    # stream would fail on it later, so refuse it here where the flag can be named.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError([problem(N_("{what} is not valid UTF-8 text"), what=what)]) from None


def seed_from_text(text: str) -> Seed:
    """``--seed TEXT``: the text as it is (UTF-8)."""
    if text == "":
        raise InputError([problem(N_("--seed: the seed text is empty"))])
    _check_utf8(text, "--seed")
    return Seed(text, "seed", {})


def fresh_os_seed() -> Seed:
    """No seed given: 16 bytes from the operating system as 32 lower-case hex digits."""
    return Seed(fresh_seed(), "os", {})


# --- beacons -------------------------------------------------------------------------------------


def _beacon_problem(name: str, message: Message, field_name: str | None = None) -> InputError:
    return InputError([problem(message.template, file=name, column=field_name, **_values(message))])


def _values(message: Message) -> dict[str, Any]:
    return dict(message.params)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads would keep the last of two equal keys; another reader might keep the first.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _read_json(path: Path) -> Any:
    require_file(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise _beacon_problem(
            path.name, Message(N_("cannot be read ({reason})"), reason=error.strerror)
        ) from None
    except UnicodeDecodeError:
        raise _beacon_problem(
            path.name, Message(N_("is not UTF-8 text, so not a beacon JSON file"))
        ) from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as error:
        raise _beacon_problem(
            path.name,
            Message(N_("appears twice in one object, so the beacon is ambiguous")),
            error.key,
        ) from None
    except json.JSONDecodeError as error:
        raise _beacon_problem(
            path.name,
            Message(
                N_(
                    "is not valid JSON (line {line}, column {position}: {reason}); "
                    "expected a saved drand or NIST Beacon 2.0 JSON file"
                ),
                line=error.lineno,
                position=error.colno,
                reason=error.msg,
            ),
        ) from None


def _index(name: str, data: dict[str, Any], key: str, field_name: str) -> int:
    if key not in data:
        raise _beacon_problem(name, Message(N_("missing field")), field_name)
    value = data[key]
    # bool is an int in Python; JSON true/false is not a round number.
    if not isinstance(value, int) or isinstance(value, bool):
        raise _beacon_problem(
            name, Message(N_("must be a whole number, got {value}"), value=repr(value)), field_name
        )
    if value < 0:
        raise _beacon_problem(
            name, Message(N_("must not be negative, got {value}"), value=value), field_name
        )
    return value


def _hex(name: str, data: dict[str, Any], key: str, field_name: str, digits: int) -> str:
    if key not in data:
        raise _beacon_problem(name, Message(N_("missing field")), field_name)
    value = data[key]
    if not isinstance(value, str):
        raise _beacon_problem(
            name, Message(N_("must be a hex string, got {value}"), value=repr(value)), field_name
        )
    if not _HEX.fullmatch(value):
        raise _beacon_problem(
            name, Message(N_("is not hexadecimal (digits 0-9 and a-f only)")), field_name
        )
    if len(value) != digits:
        raise _beacon_problem(
            name,
            Message(
                N_("must have {digits} hex digits, has {length}"), digits=digits, length=len(value)
            ),
            field_name,
        )
    return value.lower()


def _drand(name: str, data: dict[str, Any]) -> Seed:
    round_ = _index(name, data, "round", "round")
    randomness = _hex(name, data, "randomness", "randomness", DRAND_HEX_DIGITS)
    return Seed(
        f"drand:{round_}:{randomness}", "drand", {"round": round_, "randomness": randomness}
    )


def _nist(name: str, data: dict[str, Any]) -> Seed:
    pulse = data["pulse"]
    if not isinstance(pulse, dict):
        raise _beacon_problem(name, Message(N_("must be a JSON object (the pulse)")), "pulse")
    index = _index(name, pulse, "pulseIndex", "pulse.pulseIndex")
    if "timeStamp" not in pulse:
        raise _beacon_problem(name, Message(N_("missing field")), "pulse.timeStamp")
    stamp = pulse["timeStamp"]
    if not isinstance(stamp, str):
        raise _beacon_problem(
            name,
            Message(N_("must be an ISO 8601 text, got {value}"), value=repr(stamp)),
            "pulse.timeStamp",
        )
    try:
        datetime.fromisoformat(stamp)
    except ValueError:
        raise _beacon_problem(
            name,
            Message(N_("is not an ISO 8601 time stamp: {value}"), value=repr(stamp)),
            "pulse.timeStamp",
        ) from None
    output = _hex(name, pulse, "outputValue", "pulse.outputValue", NIST_HEX_DIGITS)
    return Seed(
        f"nist:{index}:{output}",
        "nist",
        {"pulseIndex": index, "timeStamp": stamp, "outputValue": output},
    )


def seed_from_beacon(path: Path) -> Seed:
    """``--beacon FILE``: a saved drand or NIST Beacon 2.0 JSON file (read offline, never fetched).

    The format is told from the fields: an object with ``pulse`` is a NIST pulse, one with
    ``round`` or ``randomness`` is a drand beacon. Every problem names the file and the field.
    """
    path = Path(path)
    data = _read_json(path)
    name = path.name
    if not isinstance(data, dict):
        raise _beacon_problem(
            name, Message(N_("must be a JSON object (a drand beacon or a NIST Beacon 2.0 pulse)"))
        )
    if "pulse" in data:
        return _nist(name, data)
    if "round" in data or "randomness" in data:
        return _drand(name, data)
    raise _beacon_problem(
        name,
        Message(
            N_(
                "is neither a drand beacon (fields 'round', 'randomness') nor a NIST Beacon 2.0 "
                "pulse (field 'pulse' with 'pulseIndex', 'timeStamp', 'outputValue')"
            )
        ),
    )


# --- dice ----------------------------------------------------------------------------------------


def seed_from_dice(rolls: str) -> Seed:
    """``--dice ROLLS``: comma-separated rolls, e.g. ``"3, 6,1"`` -> seed ``dice:3,6,1``.

    Spaces around the rolls are dropped and each roll is written as a plain decimal number
    (``"06"`` becomes ``6``), so the same rolls always give the same seed.
    """
    if rolls.strip() == "":
        raise InputError([problem(N_("--dice: no rolls given (expected e.g. '3,6,1,5')"))])
    tokens = rolls.split(",")
    problems: list[Problem] = []
    values: list[int] = []
    for position, raw in enumerate(tokens, start=1):
        token = raw.strip()
        where: dict[str, Any] = {"position": position, "count": len(tokens), "largest": MAX_DIE}
        if token == "":
            problems.append(
                problem(
                    N_(
                        "--dice: roll {position} of {count} is empty (two commas in a row, or one "
                        "at an end?)"
                    ),
                    **where,
                )
            )
        elif not _DIGITS.fullmatch(token):
            problems.append(
                problem(
                    N_(
                        "--dice: roll {position} of {count} ({token}) is not a whole number from "
                        "0 to {largest}"
                    ),
                    token=repr(token),
                    **where,
                )
            )
        elif int(token) > MAX_DIE:
            problems.append(
                problem(
                    N_("--dice: roll {position} of {count} ({token}) is above {largest}"),
                    token=token,
                    **where,
                )
            )
        else:
            values.append(int(token))
    if problems:
        raise InputError(problems)
    return Seed("dice:" + ",".join(str(v) for v in values), "dice", {"rolls": values})


# --- several parties: commit and reveal ----------------------------------------------------------


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_commitments(path: Path) -> list[str]:
    """The commitments file: one SHA-256 hex digest per line (either case), blank lines and lines
    starting with ``#`` ignored. Returns the digests in lower case, in file order.

    Every problem names the line (as the row); duplicates name both lines.
    """
    path = Path(path)
    require_file(path)
    name = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise InputError(
            [problem(N_("cannot be read ({reason})"), file=name, reason=error.strerror)]
        ) from None
    except UnicodeDecodeError:
        raise InputError([problem(N_("is not UTF-8 text"), file=name)]) from None
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    digests: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if entry == "" or entry.startswith("#"):
            continue
        if len(entry) != COMMITMENT_HEX_DIGITS or not _HEX.fullmatch(entry):
            shown = entry if len(entry) <= 80 else entry[:77] + "..."
            problems.append(
                problem(
                    N_("not a SHA-256 commitment (expected {digits} hex digits, got {value})"),
                    file=name,
                    row=number,
                    digits=COMMITMENT_HEX_DIGITS,
                    value=repr(shown),
                )
            )
            continue
        digest = entry.lower()
        if digest in seen:
            problems.append(
                problem(
                    N_("duplicate commitment {digest} (first on line {first})"),
                    file=name,
                    row=number,
                    digest=digest,
                    first=seen[digest],
                )
            )
            continue
        seen[digest] = number
        digests.append(digest)
    if problems:
        raise InputError(problems)
    if not digests:
        raise InputError([problem(N_("has no commitments in it"), file=name)])
    return digests


def seed_from_reveals(
    secrets: Sequence[str], commitments_file: Path, allow_missing: bool = False
) -> Seed:
    """``--reveal SECRET ... --commitments FILE [--allow-missing]``.

    Each secret must match one commitment (SHA-256 of its UTF-8 bytes); a secret that matches
    none is refused, showing its SHA-256 rather than the secret. The seed is the lower-case hex
    SHA-256 of the revealed secrets concatenated in the order of their commitments sorted as
    lower-case hex strings, so the order of the ``--reveal`` arguments does not matter. A
    commitment without a reveal stops the draw unless ``allow_missing``; the details list it.
    """
    name = Path(commitments_file).name
    commitments = sorted(read_commitments(Path(commitments_file)))
    if isinstance(secrets, str):  # a lone string is a sequence of characters: not what is meant
        secrets = [secrets]
    if not secrets:
        raise InputError([problem(N_("--commitments needs at least one --reveal SECRET"))])
    problems: list[Problem] = []
    committed = set(commitments)
    revealed: dict[str, str] = {}
    for position, secret in enumerate(secrets, start=1):
        _check_utf8(secret, Message(N_("--reveal number {position}"), position=position))
        digest = _sha256_hex(secret)
        if secret == "":
            problems.append(problem(N_("--reveal number {position} is empty"), position=position))
        elif digest in revealed:
            problems.append(
                problem(
                    N_(
                        "--reveal number {position} repeats an earlier reveal (SHA-256 {digest}); "
                        "each party reveals its secret once"
                    ),
                    position=position,
                    digest=digest,
                )
            )
        elif digest not in committed:
            problems.append(
                problem(
                    N_("--reveal number {position} matches no commitment: its SHA-256 is {digest}"),
                    file=name,
                    position=position,
                    digest=digest,
                )
            )
        else:
            revealed[digest] = secret
    if problems:
        raise InputError(problems)
    missing = [c for c in commitments if c not in revealed]
    if missing and not allow_missing:
        raise InputError(
            [
                problem(
                    N_(
                        "commitment {digest} has no --reveal; the draw stops here (pass "
                        "--allow-missing to draw without it, which the record notes)"
                    ),
                    file=name,
                    digest=c,
                )
                for c in missing
            ]
        )
    joined = "".join(revealed[c] for c in commitments if c in revealed)
    details: dict[str, Any] = {
        "commitments": commitments,
        "revealed": [c for c in commitments if c in revealed],
        # Public once revealed; kept so that anyone can recompute the seed from the record.
        "secrets": [revealed[c] for c in commitments if c in revealed],
        "missing": missing,
        "allow_missing": allow_missing,
    }
    return Seed(_sha256_hex(joined), "commit-reveal", details)


# --- choosing the source from the flags ----------------------------------------------------------


def resolve_seed(
    seed: str | None,
    beacon: Path | None,
    dice: str | None,
    reveals: Sequence[str],
    commitments: Path | None,
    allow_missing: bool,
    *,
    allow_os: bool = True,
) -> Seed:
    """The one seed source the flags name; none gives a fresh seed from the operating system,
    unless ``allow_os`` is False (a draw from a published commitment or record: a seed nobody
    could check in advance would defeat the two-phase draw), which makes it bad input.

    ``--reveal`` and ``--commitments`` together count as one source and need each other;
    ``--allow-missing`` only goes with them.
    """
    if isinstance(reveals, str):
        reveals = [reveals]
    problems: list[Problem] = []
    if reveals and commitments is None:
        problems.append(
            problem(N_("--reveal needs --commitments FILE (the SHA-256 digests published first)"))
        )
    if commitments is not None and not reveals:
        problems.append(problem(N_("--commitments needs at least one --reveal SECRET")))
    if allow_missing and not reveals and commitments is None:
        problems.append(problem(N_("--allow-missing only applies with --reveal and --commitments")))
    given = [
        flag
        for flag, present in (
            ("--seed", seed is not None),
            ("--beacon", beacon is not None),
            ("--dice", dice is not None),
            ("--reveal/--commitments", bool(reveals) or commitments is not None),
        )
        if present
    ]
    if len(given) > 1:
        problems.append(
            problem(
                N_(
                    "give only one seed source, got {given} "
                    "(choose one of --seed, --beacon, --dice, --reveal with --commitments)"
                ),
                given=" and ".join(given),
            )
        )
    if problems:
        raise InputError(problems)
    if seed is not None:
        return seed_from_text(seed)
    if beacon is not None:
        return seed_from_beacon(beacon)
    if dice is not None:
        return seed_from_dice(dice)
    if commitments is not None:
        return seed_from_reveals(reveals, commitments, allow_missing)
    if not allow_os:
        raise InputError(
            [
                problem(
                    N_(
                        "no seed source given: a draw from a published commitment needs a seed "
                        "announced in advance: --dice, --beacon, --reveal with --commitments, or "
                        "--seed"
                    )
                )
            ]
        )
    return fresh_os_seed()
