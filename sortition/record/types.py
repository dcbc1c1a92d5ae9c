"""Type counts instead of the pool: what ``select --publish-types`` publishes (docs/privacy.md,
section 7; docs/record.md, "Published types").

A *type* is a combination of quota feature values; the pool's people fall into types. With
``--publish-types --min-type-size T`` the record's ``pool`` lists the types instead of the people:

* a type with at least T people is **public**: ``{"values", "people", "members"}``, its members'
  pseudonyms in their order;
* a type with fewer is **withheld**: ``{"withheld", "people"}``, where ``withheld`` is the keyed
  digest HMAC-SHA256(key, WITHHELD_PREFIX ‖ canonical JSON of ``{"members", "values"}``) in hex.
  Neither its values nor its members appear; whoever holds the key and the pool file recomputes
  the digest, nobody else can enumerate it (the key is secret).

Public types come first, sorted by the canonical JSON of their values, then the withheld ones,
sorted by digest (an order that says nothing of them). The type's index in that list is its unit
number in the distribution. A withheld type's members are named in the record, the distribution
and the panel by **placeholders** ``withheld:U:I``: unit U (0-based), position I (0-based) among
its members in pseudonym order, the positions the draw takes (docs/randomness.md section 5).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from sortition.errors import N_, InputError, problem
from sortition.privacy.keys import PseudonymKey
from sortition.record.canonical import canonical_json, sha256_hex

DEFAULT_MIN_TYPE_SIZE = 5  # a type of fewer people is withheld (k-anonymity with k = 5)
WITHHELD_PREFIX = b"sortition withheld type\x00"
PLACEHOLDER = "withheld"


def placeholder(unit: int, position: int) -> str:
    """The published name of the member at ``position`` of withheld unit ``unit`` (0-based)."""
    return f"{PLACEHOLDER}:{unit}:{position}"


def parse_placeholder(name: str) -> tuple[int, int] | None:
    """(unit, position) of a placeholder, None for any other id."""
    parts = name.split(":")
    if len(parts) != 3 or parts[0] != PLACEHOLDER:
        return None
    unit, position = parts[1], parts[2]
    if not (unit.isdigit() and position.isdigit()) or unit != str(int(unit)):
        return None
    if position != str(int(position)):
        return None
    return int(unit), int(position)


def withheld_digest(key: PseudonymKey, values: dict[str, str], members: list[str]) -> str:
    """The keyed digest a withheld type is published as."""
    text = canonical_json({"members": members, "values": values})
    return hmac.new(key.secret, WITHHELD_PREFIX + text, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TypeTable:
    """The pool by type, as published and as the organiser knows it.

    ``units``: the published entries, in unit order; ``values`` and ``members``: every unit's
    values and members (pseudonyms, in their order), withheld ones included (private)."""

    units: list[dict[str, Any]]
    values: list[dict[str, str]]
    members: list[list[str]]
    min_type_size: int

    @property
    def digest(self) -> str:
        """``inputs.pool.digest``: SHA-256 of the canonical JSON of the published units."""
        return sha256_hex(canonical_json(self.units))

    def is_withheld(self, unit: int) -> bool:
        return "withheld" in self.units[unit]

    def published_ids(self) -> dict[str, str]:
        """Each member's published name: their pseudonym, or a placeholder when withheld."""
        names = {}
        for unit, members in enumerate(self.members):
            for position, person in enumerate(members):
                names[person] = placeholder(unit, position) if self.is_withheld(unit) else person
        return names

    def person(self, published: str) -> str:
        """The pseudonym behind a published name (a pseudonym is itself)."""
        found = parse_placeholder(published)
        if found is None:
            return published
        unit, position = found
        return self.members[unit][position]

    def summary(self) -> dict[str, int]:
        """``inputs.pool.publish_types``."""
        withheld = [u for u in range(len(self.units)) if self.is_withheld(u)]
        return {
            "min_type_size": self.min_type_size,
            "types": len(self.units),
            "withheld_types": len(withheld),
            "withheld_people": sum(len(self.members[u]) for u in withheld),
        }


def type_table(pool_rows: list[dict[str, Any]], key: PseudonymKey, min_type_size: int) -> TypeTable:
    """The type table of a canonical pool (``record.canonical.pseudonymised_pool``: rows sorted
    by id, no households)."""
    if min_type_size < 1:
        raise InputError(
            [problem(N_("--min-type-size must be at least 1, not {size}"), size=min_type_size)]
        )
    groups: dict[tuple[tuple[str, Any], ...], list[dict[str, Any]]] = {}
    for row in pool_rows:
        groups.setdefault(tuple(sorted(row["values"].items())), []).append(row)
    public, withheld = [], []
    for rows in groups.values():
        values = dict(rows[0]["values"])
        text = canonical_json(values)
        members = sorted(row["id"] for row in rows)
        if len(members) >= min_type_size:
            entry = {"values": values, "people": len(members), "members": members}
            public.append((text, entry, values, members))
        else:
            digest = withheld_digest(key, values, members)
            entry = {"withheld": digest, "people": len(members)}
            withheld.append((digest.encode("ascii"), entry, values, members))
    ordered = sorted(public, key=lambda t: t[0]) + sorted(withheld, key=lambda t: t[0])
    return TypeTable(
        units=[t[1] for t in ordered],
        values=[t[2] for t in ordered],
        members=[t[3] for t in ordered],
        min_type_size=min_type_size,
    )


def types_document(
    document: dict[str, Any], key: PseudonymKey, min_type_size: int
) -> tuple[dict[str, Any], TypeTable]:
    """A fair algorithm's commitment (types path, no households) in its published-types form:
    ``pool`` the type table, ``probabilities`` one number per type, the distribution over the
    table's units, every withheld member by placeholder. Also the table, for the organiser."""
    table = type_table(document["pool"], key, min_type_size)
    unit_of_values = {canonical_json(values): u for u, values in enumerate(table.values)}
    distribution = document["distribution"]
    new_index = [unit_of_values[canonical_json(unit["values"])] for unit in distribution["units"]]
    names = table.published_ids()
    probabilities = document["probabilities"]
    published = dict(distribution)
    published["units"] = table.units
    published["panels"] = [
        {
            "weight": panel["weight"],
            "counts": sorted([new_index[u], c] for u, c in panel["counts"]),
        }
        for panel in distribution["panels"]
    ]
    published["never_selectable"] = sorted(names[p] for p in distribution["never_selectable"])
    result = dict(document)
    inputs = {**document["inputs"], "pool": dict(document["inputs"]["pool"])}
    inputs["pool"]["digest"] = table.digest
    inputs["pool"]["publish_types"] = table.summary()
    result["inputs"] = inputs
    result["probabilities"] = [probabilities[members[0]] for members in table.members]
    result["distribution"] = published
    result["pool"] = table.units
    return result, table


def publish_types_of(record: dict[str, Any]) -> dict[str, Any] | None:
    """``inputs.pool.publish_types`` of a record (version 6), None when it lists the people."""
    inputs = record.get("inputs")
    pool = inputs.get("pool") if isinstance(inputs, dict) else None
    found = pool.get("publish_types") if isinstance(pool, dict) else None
    return found if isinstance(found, dict) else None


def unit_members(units: list[dict[str, Any]]) -> list[list[str]]:
    """Every unit's members as published: the names listed, or a withheld unit's placeholders."""
    members = []
    for number, unit in enumerate(units):
        if "withheld" in unit:
            members.append([placeholder(number, i) for i in range(int(unit["people"]))])
        else:
            members.append(list(unit["members"]))
    return members
