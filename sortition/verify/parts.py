"""A selection record's (or commitment's) parts, read and validated for shape: the embedded pool
and quotas, the seed and the panel, and for the fair algorithms the distribution; and the quota and
household problems of a set of people, counted from the record's own pool."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sortition.engine.registry import ALGORITHMS, FAIR_ALGORITHMS
from sortition.errors import N_, InputError, Message, problem
from sortition.model import Instance
from sortition.privacy.keys import PseudonymKey
from sortition.record.draw import commitment_sha256
from sortition.record.reader import (
    RecordReader,
    allow_empty_household,
    is_int,
    pseudonym_method,
    record_instance,
)
from sortition.verify.items import CheckItem


@dataclass(frozen=True)
class SelectionParts:
    """A selection record's parts, validated."""

    record: dict[str, Any]
    name: str  # the record file's name, for messages
    instance: Instance
    algorithm: str
    seed: str
    panel: list[str]
    pool_rows: dict[str, dict[str, Any]]  # id -> embedded row, as written
    quota_rows: list[dict[str, Any]]  # as written


@dataclass(frozen=True)
class FairParts:
    """The distribution of a fair-algorithm record, validated for shape (not for content)."""

    path: str  # "types" or "people"
    weights: list[float]
    units: list[list[str]]  # types path: members of each unit, as listed
    unit_values: list[dict[str, Any]]  # types path: each unit's stated values
    counts: list[list[tuple[int, int]]]  # types path: (unit, count) of each panel, as listed
    members: list[list[str]]  # people path: ids of each panel
    probabilities: dict[str, Any]
    never_selectable: list[str]
    document: dict[str, Any]

    @staticmethod
    def read(selection: SelectionParts, reader: RecordReader) -> FairParts:
        record = selection.record
        document = reader.mapping(record, "distribution")
        path = reader.text(document, "path")
        if path not in ("types", "people"):
            raise reader.fail(
                Message(
                    N_("'distribution.path' must be 'types' or 'people', not {path}"),
                    path=repr(path),
                )
            )
        panels = reader.items(document, "panels")
        if not panels:
            raise reader.fail(Message(N_("'{path}' is empty"), path="distribution.panels"))
        weights, counts, members = [], [], []
        units: list[list[str]] = []
        unit_values: list[dict[str, Any]] = []
        if path == "types":
            for number, unit in enumerate(reader.items(document, "units"), start=1):
                units.append(reader.texts(unit, "members"))
                unit_values.append(reader.mapping(unit, "values"))
                if not units[-1]:
                    raise reader.fail(
                        Message(N_("'{path}' has no members"), path=f"distribution.units[{number}]")
                    )
        for number, panel in enumerate(panels, start=1):
            where = f"distribution.panels[{number}]"
            if not isinstance(panel, dict):
                raise reader.fail(Message(N_("'{path}' must be an object"), path=where))
            weights.append(reader.number(panel, "weight"))
            if path == "people":
                members.append(reader.texts(panel, "members"))
                continue
            counts.append(count_pairs(reader, panel, len(units), where))
        never = document.get("never_selectable", [])
        if not isinstance(never, list) or not all(isinstance(p, str) for p in never):
            raise reader.fail(
                Message(N_("'{path}' must be a list of ids"), path="distribution.never_selectable")
            )
        return FairParts(
            path=path,
            weights=weights,
            units=units,
            unit_values=unit_values,
            counts=counts,
            members=members,
            probabilities=reader.mapping(record, "probabilities"),
            never_selectable=never,
            document=document,
        )


def read_parts(
    record: dict[str, Any], name: str, with_draw: bool
) -> tuple[SelectionParts, FairParts | None]:
    """A selection record's (or, without ``with_draw``, a commitment's) parts, validated."""
    reader = RecordReader(name)
    instance = record_instance(record, name)
    algorithm = reader.text(record, "algorithm")
    if algorithm not in ALGORITHMS:
        raise reader.fail(Message(N_("unknown algorithm '{algorithm}'"), algorithm=algorithm))
    for key in ("inputs.pool.digest", "inputs.quotas.digest"):
        reader.text(record, key)
    allow_empty_household(record, name)
    selection = SelectionParts(
        record=record,
        name=name,
        instance=instance,
        algorithm=algorithm,
        seed=reader.text(record, "seed.value") if with_draw else "",
        panel=reader.texts(record, "panel") if with_draw else [],
        pool_rows={row["id"]: row for row in record["pool"]},
        quota_rows=record["quotas"],
    )
    fair = FairParts.read(selection, reader) if algorithm in FAIR_ALGORITHMS else None
    return selection, fair


def quota_problems(
    members: Sequence[str], pool_rows: dict[str, dict[str, Any]], quota_rows: list[dict[str, Any]]
) -> list[str]:
    """Quota rows (as written) that the given people do not meet, counted from the pool rows."""
    counts = Counter(
        (feature, value)
        for person in members
        if person in pool_rows
        for feature, value in pool_rows[person]["values"].items()
    )
    return [
        Message(
            N_("{feature} {value}: {count}, quota {min}-{max}"),
            feature=q["feature"],
            value=q["value"],
            count=counts[(q["feature"], q["value"])],
            min=q["min"],
            max=q["max"],
        )
        for q in quota_rows
        if not q["min"] <= counts[(q["feature"], q["value"])] <= q["max"]
    ]


def household_problems(members: Sequence[str], pool_rows: dict[str, dict[str, Any]]) -> list[str]:
    """Households (as numbered in the pool rows) with more than one of the given people."""
    households: dict[int, list[str]] = {}
    for person in members:
        row = pool_rows.get(person)
        if row is not None and row["household"] is not None:
            households.setdefault(int(row["household"]), []).append(person)
    return [
        Message(N_("household {household}: {people}"), household=h, people=", ".join(people))
        for h, people in sorted(households.items())
        if len(people) > 1
    ]


def pseudonym_key_items(
    record: dict[str, Any], name: str, key: PseudonymKey | None, pool_path: Path | None
) -> list[CheckItem]:
    """With the organiser's key: the ``pseudonym key`` item (its fingerprint is the record's).
    A key for a record without pseudonyms, or a pool file for one with them but no key, is bad
    input: the pool file could not be read as the record read it."""
    method = pseudonym_method(record, name)
    if method is None:
        if key is not None:
            raise InputError(
                [
                    problem(
                        N_(
                            "names people by the pool file's own ids, not by keyed pseudonyms: "
                            "--pseudonym-key does not apply to it"
                        ),
                        file=name,
                    )
                ]
            )
        return []
    if key is None:
        if pool_path is not None:
            raise InputError(
                [
                    problem(
                        N_(
                            "names people by keyed pseudonyms: checking it against the pool file "
                            "needs the organiser's key (--pseudonym-key FILE)"
                        ),
                        file=name,
                    )
                ]
            )
        return []
    stated = method["key_fingerprint"]
    if key.fingerprint == stated:
        return [
            CheckItem(
                "pseudonym key",
                True,
                Message(N_("{key}: fingerprint matches {stated}"), key=key.name, stated=stated),
            )
        ]
    return [
        CheckItem(
            "pseudonym key",
            False,
            Message(
                N_("{key} has fingerprint {fingerprint}, the record's key {stated}: another key"),
                key=key.name,
                fingerprint=key.fingerprint,
                stated=stated,
            ),
        )
    ]


def count_pairs(
    reader: RecordReader, panel: dict[str, Any], n_units: int, where: str
) -> list[tuple[int, int]]:
    """A types-path panel's ``counts``: [unit index, count] pairs of whole numbers, every index
    below ``n_units`` (bad input naming ``where`` otherwise)."""
    pairs = []
    for pair in reader.items(panel, "counts"):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(is_int(x) for x in pair)
            or not 0 <= pair[0] < n_units
            or pair[1] < 0
        ):
            raise reader.fail(
                Message(
                    N_(
                        "'{path}' must be [unit index, count] pairs of whole numbers "
                        "(unit index below {units})"
                    ),
                    path=f"{where}.counts",
                    units=n_units,
                )
            )
        pairs.append((int(pair[0]), int(pair[1])))
    return pairs


def commitment_item(record: dict[str, Any]) -> CheckItem:
    """The record's committed part must hash to the commitment digest it states."""
    commitment = record.get("commitment")
    stated = commitment.get("sha256") if isinstance(commitment, dict) else None
    derived = commitment_sha256(record)
    if stated != derived:
        return CheckItem(
            "commitment",
            False,
            Message(
                N_("the record states {stated}, its committed part hashes to {derived}"),
                stated=stated,
                derived=derived,
            ),
        )
    return CheckItem(
        "commitment", True, Message(N_("the committed part hashes to {derived}"), derived=derived)
    )
