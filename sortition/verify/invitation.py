"""Verify an invitation record (kind ``invitation``): its allocation arithmetic, its invitations,
and with the registry file, every invitation re-derived from the seed.

Items: ``record version``, ``allocation`` (re-computed from the recorded households and weights),
``invitations`` (one per letter, per stratum, no id twice); with ``--registry``: ``registry file``
(raw SHA-256), ``registry counts`` (rows, households per stratum) and ``draw`` (the invitations
re-derived from the registry and the seed, in order).

Version 1 records ranked households by their cells as written; version 2 ranks the normalised
household key. A version-1 record without household columns ranked ids, as version 2 does, so it
is re-derived in full; with household columns its draw cannot be re-derived here (InputError
saying so), though its allocation and invitations are still checked without the registry.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sortition.errors import N_, InputError, Message, problem, require_file
from sortition.invitations.allocation import allocate, parse_weight
from sortition.invitations.service import InviteRequest, InviteResult, draw_invitations
from sortition.privacy.keys import PseudonymKey
from sortition.record.canonical import file_sha256
from sortition.record.reader import RecordReader
from sortition.seeds import Seed
from sortition.verify.items import (
    CheckItem,
    VerifyRequest,
    item_from,
    joined,
    shortlist,
    version_item,
)


def verify_invitation(request: VerifyRequest) -> list[CheckItem]:
    """The record's items; without the registry file the invitations cannot be checked at all
    (the record names addresses only by id), so that is missing input (exit 2), not a pass."""
    if request.registry_path is None:
        raise InputError(
            [
                problem(
                    N_(
                        "is an invitation record: its invitations can only be re-derived from the "
                        "registry they were drawn from; give --registry FILE"
                    ),
                    file=request.name,
                )
            ]
        )
    record, reader = request.record, RecordReader(request.name)
    letters = reader.integer(record, "letters", minimum=1)
    registry = reader.mapping(record, "inputs.registry")
    strata = reader.items(record, "allocation.strata")
    recorded: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(strata, start=1):
        where = f"allocation.strata[{number}]"
        if not isinstance(line, dict):
            raise reader.fail(Message(N_("'{path}' must be an object"), path=where))
        stratum = reader.text(line, "stratum")
        reader.integer(line, "households")
        reader.integer(line, "letters")
        reader.text(line, "weight")
        recorded[stratum] = line
    invitations = reader.items(record, "invitations")
    for number, entry in enumerate(invitations, start=1):
        if not isinstance(entry, dict):
            raise reader.fail(
                Message(N_("'{path}' must be an object"), path=f"invitations[{number}]")
            )
        reader.text(entry, "stratum")
        reader.text(entry, "id")
    seed_value = reader.text(record, "seed.value")

    items = [
        version_item(record),
        _allocation_item(recorded, letters, request.name),
        _invitations_item(recorded, invitations),
    ]
    key = request.pseudonym_key
    items += _pseudonym_key_items(registry, key, request.name)
    items += _registry_items(
        request.registry_path,
        reader,
        record["version"],
        registry,
        recorded,
        letters,
        seed_value,
        invitations,
        key,
    )
    return items


def _pseudonym_key_items(
    registry: dict[str, Any], key: PseudonymKey | None, name: str
) -> list[CheckItem]:
    """Version 3: when the record names the invited by keyed pseudonyms, re-deriving them needs
    the organiser's key (bad input without it); the ``pseudonym key`` item compares its
    fingerprint with the record's. A key for a record without pseudonyms is bad input."""
    method = registry.get("pseudonyms")
    if method is None:
        if key is not None:
            raise InputError(
                [
                    problem(
                        N_(
                            "names the invited by the registry's own ids, not by keyed "
                            "pseudonyms: --pseudonym-key does not apply to it"
                        ),
                        file=name,
                    )
                ]
            )
        return []
    reader = RecordReader(name)
    if not isinstance(method, dict):
        raise reader.fail(
            Message(N_("'{path}' must be an object or null"), path="inputs.registry.pseudonyms")
        )
    stated = reader.text(method, "key_fingerprint")
    if key is None:
        raise InputError(
            [
                problem(
                    N_(
                        "names the invited by keyed pseudonyms: re-deriving them from the registry "
                        "needs the organiser's key (--pseudonym-key FILE)"
                    ),
                    file=name,
                )
            ]
        )
    if key.fingerprint == stated:
        detail = Message(N_("{key}: fingerprint matches {stated}"), key=key.name, stated=stated)
        return [CheckItem("pseudonym key", True, detail)]
    detail = Message(
        N_("{key} has fingerprint {fingerprint}, the record's key {stated}: another key"),
        key=key.name,
        fingerprint=key.fingerprint,
        stated=stated,
    )
    return [CheckItem("pseudonym key", False, detail)]


def _weights(recorded: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    return {
        stratum: parse_weight(
            line["weight"],
            Message(N_("{name}, stratum {stratum}"), name=name, stratum=repr(stratum)),
        )
        for stratum, line in recorded.items()
        if line["weight"] != "1"
    }


def _allocation_item(recorded: dict[str, dict[str, Any]], letters: int, name: str) -> CheckItem:
    total = sum(line["letters"] for line in recorded.values())
    if total != letters:
        return CheckItem(
            "allocation",
            False,
            Message(
                N_("the strata's letters add up to {total}, not {letters}"),
                total=total,
                letters=letters,
            ),
        )
    households = {s: line["households"] for s, line in recorded.items()}
    expected = allocate(households, _weights(recorded, name), letters)
    wrong: list[str] = [
        Message(
            N_("{stratum}: {recorded} recorded, {letters} by the rule"),
            stratum=a.stratum,
            recorded=recorded[a.stratum]["letters"],
            letters=a.letters,
        )
        for a in expected
        if a.letters != recorded[a.stratum]["letters"]
        or a.all_households != bool(recorded[a.stratum].get("all_households"))
    ]
    return item_from(
        "allocation",
        wrong,
        Message(
            N_(
                "{letters} letters over {strata} strata follow from the recorded households and "
                "weights by largest remainder"
            ),
            letters=letters,
            strata=len(recorded),
        ),
    )


def _invitations_item(recorded: dict[str, dict[str, Any]], invitations: list[Any]) -> CheckItem:
    per_stratum = Counter(entry["stratum"] for entry in invitations)
    wrong: list[str] = [
        Message(
            N_("{stratum}: {invitations} invitations for {letters} letters"),
            stratum=s,
            invitations=per_stratum.get(s, 0),
            letters=line["letters"],
        )
        for s, line in recorded.items()
        if per_stratum.get(s, 0) != line["letters"]
    ]
    wrong += [
        Message(N_("{stratum}: not in the allocation"), stratum=s)
        for s in sorted(set(per_stratum) - set(recorded))
    ]
    repeated = [i for i, count in Counter(e["id"] for e in invitations).items() if count > 1]
    wrong += [Message(N_("id {id} invited twice"), id=repr(i)) for i in repeated]
    return item_from(
        "invitations",
        wrong,
        Message(
            N_("{invitations} invitations, as many per stratum as letters"),
            invitations=len(invitations),
        ),
    )


def _registry_items(
    path: Path,
    reader: RecordReader,
    version: int,
    registry: dict[str, Any],
    recorded: dict[str, dict[str, Any]],
    letters: int,
    seed_value: str,
    invitations: list[Any],
    key: PseudonymKey | None = None,
) -> list[CheckItem]:
    """The registry file against the record: its SHA-256, its counts and the draw re-derived
    from it with the record's seed and options."""
    household_columns, stratify_by, allow_empty = _registry_options(reader, version, registry)
    require_file(path)
    raw = file_sha256(path)
    stated = registry.get("file_sha256")
    if raw == stated:
        file_item = CheckItem("registry file", True, Message(N_("SHA-256 matches {raw}"), raw=raw))
    else:
        file_item = CheckItem(
            "registry file",
            False,
            Message(
                N_("{file}: SHA-256 {raw} differs from the record's {stated}"),
                file=path.name,
                raw=raw,
                stated=stated if isinstance(stated, str) else Message(N_("nothing")),
            ),
        )
    request = InviteRequest(
        path,
        letters,
        reader.text(registry, "id_column"),
        household_columns,
        stratify_by,
        _weights(recorded, path.name),
        allow_empty_household=allow_empty,
        pseudonym_key=key if registry.get("pseudonyms") is not None else None,
        ids_are_public=True,  # re-derived to compare, not published
    )
    try:
        result = draw_invitations(request, Seed(seed_value, "seed"))
    except InputError as error:
        if file_item.ok:
            raise
        why = Message(
            N_("{file} does not fit the record: {problem}"),
            file=path.name,
            problem=error.problems[0],
        )
        return [file_item, CheckItem("registry counts", False, why), CheckItem("draw", False, why)]
    return [
        file_item,
        _counts_item(registry, recorded, result),
        _draw_item(invitations, result.record["invitations"]),
    ]


def _registry_options(
    reader: RecordReader, version: int, registry: dict[str, Any]
) -> tuple[tuple[str, ...], str | None, bool]:
    """The record's household columns, stratification column and allow_empty_household
    (InputError when malformed, or when a version 1 record ranked households, which this
    version cannot re-derive)."""
    household_columns = registry.get("household_columns") or []
    if not isinstance(household_columns, list) or not all(
        isinstance(c, str) for c in household_columns
    ):
        raise reader.fail(
            Message(
                N_("'{path}' must be a list of column names"),
                path="inputs.registry.household_columns",
            )
        )
    stratify_by = registry.get("stratify_by")
    if stratify_by is not None and not isinstance(stratify_by, str):
        raise reader.fail(
            Message(
                N_("'{path}' must be a column name or null"), path="inputs.registry.stratify_by"
            )
        )
    allow_empty = registry.get("allow_empty_household", False)
    if not isinstance(allow_empty, bool):
        raise reader.fail(
            Message(
                N_("'{path}' must be true or false"), path="inputs.registry.allow_empty_household"
            )
        )
    if household_columns and version == 1:
        raise InputError(
            [
                problem(
                    N_(
                        "is an invitation record of version 1, which ranked households by their "
                        "cells as written (only surrounding spaces removed); this sortition ranks "
                        "the normalised household key (docs/households.md), so it cannot "
                        "re-derive this record's draw from the registry: verify it with the "
                        "sortition version the record names"
                    ),
                    file=reader.name,
                )
            ]
        )
    return tuple(str(c) for c in household_columns), stratify_by, allow_empty


def _counts_item(
    registry: dict[str, Any], recorded: dict[str, dict[str, Any]], result: InviteResult
) -> CheckItem:
    """The registry's rows, households and households per stratum, recorded and re-counted."""
    derived = result.record["inputs"]["registry"]
    counts = {a.stratum: a.households for a in result.allocation}
    wrong: list[str] = [
        Message(
            N_("{field}: record {stated}, file {found}"),
            field=key,
            stated=registry.get(key),
            found=derived[key],
        )
        for key in ("rows", "households")
        if registry.get(key) != derived[key]
    ]
    wrong += [
        Message(
            N_("{stratum}: record {stated} households, file {found}"),
            stratum=s,
            stated=recorded.get(s, {}).get("households"),
            found=counts.get(s),
        )
        for s in sorted(set(counts) | set(recorded))
        if counts.get(s) != recorded.get(s, {}).get("households")
    ]
    return item_from(
        "registry counts",
        wrong,
        Message(
            N_("{rows} rows, {households} households in {strata} strata"),
            rows=derived["rows"],
            households=derived["households"],
            strata=len(counts),
        ),
    )


def _draw_item(invitations: list[Any], again: list[Any]) -> CheckItem:
    """The recorded invitations against those re-derived from the registry."""
    if again == invitations:
        return CheckItem(
            "draw",
            True,
            Message(
                N_("all {invitations} invitations re-derived from the seed and the registry"),
                invitations=len(again),
            ),
        )
    listed = {(e["stratum"], e["id"]) for e in invitations}
    derived_set = {(e["stratum"], e["id"]) for e in again}
    missing = [f"{i} ({s})" for s, i in sorted(derived_set - listed)]
    extra = [f"{i} ({s})" for s, i in sorted(listed - derived_set)]
    parts: list[str] = []
    if extra:
        parts.append(Message(N_("recorded but not drawn: {ids}"), ids=shortlist(extra)))
    if missing:
        parts.append(Message(N_("drawn but not recorded: {ids}"), ids=shortlist(missing)))
    if not parts:
        parts.append(Message(N_("the same invitations, in another order")))
    return CheckItem("draw", False, joined(parts, "; "))
