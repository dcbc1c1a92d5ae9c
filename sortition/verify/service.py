"""``verify_record``: read a record, check that the options given fit its kind, and run the kind's
checker (``CHECKERS``: the selection record, the invitation record, the replacement record,
the alternates record)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sortition.errors import N_, InputError, Message, problem, require_file
from sortition.io.tables import PathLike
from sortition.privacy.keys import PseudonymKey, read_key
from sortition.record.build import READABLE_VERSIONS
from sortition.record.reader import kind_name
from sortition.record.replacement import REPLACEMENT_VERSIONS
from sortition.verify.alternates import verify_alternates
from sortition.verify.groups import verify_groups
from sortition.verify.invitation import verify_invitation
from sortition.verify.items import Checker, VerifyReport, VerifyRequest, parse_sha256
from sortition.verify.replacement import verify_replacement
from sortition.verify.selection import verify_selection


def verify_record(
    record_path: PathLike,
    pool_path: PathLike | None = None,
    quotas_path: PathLike | None = None,
    *,
    recompute: bool = False,
    id_column: str | None = None,
    registry_path: PathLike | None = None,
    expect: str | None = None,
    pseudonym_key: PseudonymKey | PathLike | None = None,
    panel_path: PathLike | None = None,
) -> VerifyReport:
    """Check a record, and the pool and quota files when given. ``id_column`` overrides the
    record's id column when reading the pool file; ``expect`` is the commitment SHA-256 the
    organiser published before the draw (a selection record's ``commitment.sha256`` must be it);
    ``panel_path`` is the panel file a groups record seated.

    Options that belong to the other kind of record (``registry_path`` for a selection record;
    ``pool_path``, ``quotas_path``, ``recompute``, ``id_column``, ``expect`` for an invitation
    record) are bad input rather than silently ignored. ``pseudonym_key`` (a key or its file) is
    the organiser's key: with it the pool file is read as the record read it, its ids made
    keyed pseudonyms, and the key's fingerprint is compared with the record's.
    """
    if pseudonym_key is not None and not isinstance(pseudonym_key, PseudonymKey):
        pseudonym_key = read_key(pseudonym_key)
    expected = None if expect is None else parse_sha256(expect, "--expect")
    record_path = Path(record_path)
    record = read_record(record_path)
    kind = record["kind"]
    given = {
        "--registry": registry_path is not None,
        "--pool": pool_path is not None,
        "--quotas": quotas_path is not None,
        "--recompute": recompute,
        "--id-column": id_column is not None,
        "--expect": expected is not None,
        "--pseudonym-key": pseudonym_key is not None,
        "--panel": panel_path is not None,
    }
    foreign = [flag for flag in KIND_OPTIONS[kind][1] if given[flag]]
    if foreign:
        raise InputError(
            [
                problem(
                    N_("is {kind} record: {options} does not apply to it ({takes})")
                    if len(foreign) == 1
                    else N_("is {kind} record: {options} do not apply to it ({takes})"),
                    file=record_path.name,
                    kind=kind_name(kind),
                    options=", ".join(foreign),
                    takes=Message(KIND_OPTIONS[kind][0]),
                )
            ]
        )
    request = VerifyRequest(
        record,
        record_path.name,
        _optional_path(pool_path),
        _optional_path(quotas_path),
        recompute,
        id_column,
        _optional_path(registry_path),
        expected,
        pseudonym_key,
        panel_path=_optional_path(panel_path),
    )
    items = CHECKERS[kind][1](request)
    return VerifyReport(tuple(items), tuple(request.warnings))


def _optional_path(path: PathLike | None) -> Path | None:
    return None if path is None else Path(path)


# kind -> (what applies to it, the options of the other kind)
KIND_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "selection": (
        N_(
            "a selection record takes --pool, --quotas, --recompute, --id-column, --expect and "
            "--pseudonym-key"
        ),
        ("--registry", "--panel"),
    ),
    "invitation": (
        N_("an invitation record takes --registry and --pseudonym-key"),
        ("--pool", "--quotas", "--recompute", "--id-column", "--expect", "--panel"),
    ),
    "groups": (
        N_("a groups record takes --panel and --pseudonym-key"),
        ("--pool", "--quotas", "--recompute", "--id-column", "--expect", "--registry"),
    ),
    "replacement": (
        N_(
            "a replacement record takes --pool, --quotas, --recompute, --id-column, --expect and "
            "--pseudonym-key, which apply to the original selection record it embeds"
        ),
        ("--registry", "--panel"),
    ),
    "alternates": (
        N_("an alternates record takes no options: it is re-run from what it embeds"),
        (
            "--registry",
            "--pool",
            "--quotas",
            "--recompute",
            "--id-column",
            "--expect",
            "--panel",
            "--pseudonym-key",
        ),
    ),
}


def read_record(path: Path) -> dict[str, Any]:
    """The record as a dict, with a known kind and version (InputError naming the file if not)."""
    require_file(path)
    name = path.name
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(
            [problem(N_("is not UTF-8 text (byte {byte})"), file=name, byte=exc.start)]
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            [
                problem(
                    N_("is not JSON (line {line}, column {number}: {reason})"),
                    file=name,
                    line=exc.lineno,
                    number=exc.colno,
                    reason=exc.msg,
                )
            ]
        ) from None
    if not isinstance(record, dict):
        raise InputError([problem(N_("is not a record: expected a JSON object"), file=name)])
    kind = record.get("kind")
    if kind is None:
        raise InputError([problem(N_("is not a record: it has no 'kind'"), file=name)])
    if not isinstance(kind, str) or kind not in CHECKERS:
        known = ", ".join(sorted(CHECKERS))
        raise InputError(
            [
                problem(
                    N_("unknown record kind {kind} (known: {known})"),
                    file=name,
                    kind=repr(kind),
                    known=known,
                )
            ]
        )
    versions = CHECKERS[kind][0]
    version = record.get("version")
    if isinstance(version, bool) or version not in versions:
        known = ", ".join(str(v) for v in versions)
        raise InputError(
            [
                problem(
                    N_("unknown {kind} record version {version} (known: {known})"),
                    file=name,
                    kind=kind_name(kind),
                    version=repr(version),
                    known=known,
                )
            ]
        )
    return record


CHECKERS: dict[str, tuple[tuple[int, ...], Checker]] = {
    "selection": (READABLE_VERSIONS, verify_selection),
    "invitation": ((1, 2, 3), verify_invitation),
    "groups": ((1,), verify_groups),
    "replacement": (REPLACEMENT_VERSIONS, verify_replacement),
    "alternates": ((1,), verify_alternates),
}
