"""Verify a selection record that publishes type counts (``select --publish-types``;
docs/privacy.md section 7, docs/record.md "Published types").

From the record alone: the digests, the type table (sizes, order, the threshold kept), the draw
(re-derived from the seed: which panel of the distribution, which positions of each type), the
distribution's weights, its panels' sizes and the quotas on them, the probabilities per type, the
certificate. A withheld type's values are not public, so a quota on a panel that takes members of
withheld types is checked within bounds (each withheld member adds one to some value of every
feature). With ``--pool FILE --pseudonym-key KEY`` the withheld types are rebuilt from the pool
file and compared with their digests (``pool file``), and every quota is then checked exactly;
``--recompute`` needs them too.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sortition.errors import N_, InfeasibleError, InputError, Message, problem
from sortition.io.pool import parse_pool
from sortition.io.quotas import read_quota_file
from sortition.io.tables import read_table
from sortition.model import Instance, Pool, Quotas
from sortition.privacy.keys import PseudonymKey
from sortition.record.canonical import (
    canonical_json,
    pseudonymised_pool,
    quota_rows,
    quotas_digest,
    sha256_hex,
)
from sortition.record.draw import commitment_sha256, derive_draw
from sortition.record.reader import (
    RecordReader,
    allow_empty_household,
    embedded_quotas,
    is_number,
    pool_columns,
)
from sortition.record.types import (
    TypeTable,
    parse_placeholder,
    publish_types_of,
    type_table,
    unit_members,
)
from sortition.verify.distribution import (
    RECOMPUTE_TOLERANCE,
    WEIGHT_TOLERANCE,
    certificate_check,
    certificate_difference,
    other_versions,
    same_optimum,
)
from sortition.verify.items import (
    CheckItem,
    VerifyRequest,
    error_text,
    item_from,
    shortlist,
    version_item,
)
from sortition.verify.parts import commitment_item, count_pairs, pseudonym_key_items

_HEX = set("0123456789abcdef")


@dataclass
class TypesParts:
    """A record with type counts, read and validated for shape. ``values[u]`` is unit u's values,
    None for a withheld type until the pool file gives it (``resolve``)."""

    record: dict[str, Any]
    name: str
    quotas: Quotas
    k: int
    algorithm: str
    min_type_size: int
    units: list[dict[str, Any]]
    sizes: list[int]
    values: list[dict[str, str] | None]
    members: list[list[str]]  # published names: pseudonyms, or placeholders of withheld types
    weights: list[float]
    counts: list[list[tuple[int, int]]]
    probabilities: list[Any]
    never_selectable: list[str]
    seed: str
    panel: list[str]
    resolved: bool = False
    # with the pool and key: every unit's members by pseudonym, withheld ones included (private)
    pseudonyms: list[list[str]] | None = None

    def unit_of(self) -> dict[str, int]:
        return {person: u for u, names in enumerate(self.members) for person in names}

    def resolve(self, table: TypeTable) -> None:
        """The withheld types' values, from the auditor's type table (whose digest matched)."""
        self.values = [dict(v) for v in table.values]
        self.pseudonyms = [list(m) for m in table.members]
        self.resolved = True

    @property
    def withheld(self) -> list[int]:
        return [u for u, unit in enumerate(self.units) if "withheld" in unit]


def read_types(record: dict[str, Any], name: str, with_draw: bool) -> TypesParts:
    """The parts of a record (or commitment) with type counts; InputError when malformed."""
    reader = RecordReader(name)
    settings = publish_types_of(record) or {}
    threshold = reader.integer(settings, "min_type_size", minimum=1)
    for key in ("inputs.pool.digest", "inputs.quotas.digest"):
        reader.text(record, key)
    quotas = embedded_quotas(record, name)
    units = reader.items(record, "pool")
    if not units:
        raise reader.fail(Message(N_("'{path}' has no types"), path="pool"))
    sizes: list[int] = []
    values: list[dict[str, str] | None] = []
    for number, unit in enumerate(units, start=1):
        where = f"pool[{number}]"
        if not isinstance(unit, dict):
            raise reader.fail(Message(N_("'{path}' must be an object"), path=where))
        sizes.append(reader.integer(unit, "people", minimum=1))
        if "withheld" in unit:
            digest = reader.text(unit, "withheld")
            if len(digest) != 64 or not set(digest) <= _HEX or set(unit) != {"withheld", "people"}:
                raise reader.fail(
                    Message(
                        N_("'{path}' must be {shape}"),
                        path=where,
                        # the shape's braces are not a word: its template passes as it is
                        shape=Message(
                            "{{'withheld': {digits}, 'people'}}",
                            digits=Message(N_("64 hex digits")),
                        ),
                    )
                )
            values.append(None)
        else:
            reader.texts(unit, "members")
            found = reader.mapping(unit, "values")
            if not all(isinstance(v, str) for v in found.values()):
                raise reader.fail(
                    Message(N_("'{path}' must map features to texts"), path=f"{where}.values")
                )
            values.append(dict(found))
    document = reader.mapping(record, "distribution")
    if reader.text(document, "path") != "types":
        raise reader.fail(
            Message(N_("a record with type counts has a distribution on the types path"))
        )
    weights, counts = [], []
    for number, panel in enumerate(reader.items(document, "panels"), start=1):
        weights.append(reader.number(panel, "weight"))
        counts.append(count_pairs(reader, panel, len(units), f"distribution.panels[{number}]"))
    if not weights:
        raise reader.fail(Message(N_("'{path}' is empty"), path="distribution.panels"))
    never = reader.texts(document, "never_selectable")
    algorithm = reader.text(record, "algorithm")
    return TypesParts(
        record=record,
        name=name,
        quotas=quotas,
        k=reader.integer(record, "k", minimum=1),
        algorithm=algorithm,
        min_type_size=threshold,
        units=units,
        sizes=sizes,
        values=values,
        members=unit_members(units),
        weights=weights,
        counts=counts,
        probabilities=reader.items(record, "probabilities"),
        never_selectable=never,
        seed=reader.text(record, "seed.value") if with_draw else "",
        panel=reader.texts(record, "panel") if with_draw else [],
    )


def check_types_commitment(document: dict[str, Any], name: str) -> list[CheckItem]:
    """What ``draw`` checks before drawing from a commitment with type counts."""
    parts = read_types(document, name, with_draw=False)
    items = [*_digest_items(parts), _types_item(parts), _weights_item(parts), _panels_item(parts)]
    items += [_probabilities_item(parts), _certificate_item(parts)]
    return items


def verify_types(request: VerifyRequest) -> list[CheckItem]:
    record = request.record
    parts = read_types(record, request.name, with_draw=True)
    items = [version_item(record), commitment_item(parts.record)]
    if request.expect is not None:
        derived = commitment_sha256(record)
        items.append(
            CheckItem(
                "published commitment",
                derived == request.expect,
                Message(N_("matches the published {expected}"), expected=request.expect)
                if derived == request.expect
                else Message(
                    N_(
                        "the record's committed part hashes to {derived}, not to the published "
                        "{expected}"
                    ),
                    derived=derived,
                    expected=request.expect,
                ),
            )
        )
    items += [*_digest_items(parts), _types_item(parts)]
    items += pseudonym_key_items(record, request.name, request.pseudonym_key, request.pool_path)
    if request.pool_path is not None and request.pseudonym_key is not None:
        items.append(
            _pool_file_item(parts, request.pool_path, request.pseudonym_key, request.id_column)
        )
    if request.quotas_path is not None:
        items.append(_quotas_file_item(parts, request.quotas_path, request.warnings))
    items += [_panel_size_item(parts), _quotas_item(parts), _draw_item(parts)]
    items += [_weights_item(parts), _panels_item(parts), _probabilities_item(parts)]
    items.append(_certificate_item(parts))
    if request.recompute:
        items.append(_recompute_item(parts))
    return items


def _digest_items(parts: TypesParts) -> list[CheckItem]:
    inputs = parts.record["inputs"]
    stated = inputs["pool"].get("digest")
    rebuilt = sha256_hex(canonical_json(parts.units))
    types = len(parts.units)
    pool_item = CheckItem(
        "pool digest",
        rebuilt == stated,
        Message(
            N_("matches {stated}, {types} types of {people} people"),
            stated=stated,
            types=types,
            people=sum(parts.sizes),
        )
        if rebuilt == stated
        else Message(
            N_("record says {stated}, its embedded type table gives {rebuilt}"),
            stated=stated,
            rebuilt=rebuilt,
        ),
    )
    stated = inputs["quotas"].get("digest")
    rebuilt = quotas_digest(parts.quotas)
    matches: str = Message(
        N_("matches {stated}, {rows} quota rows"), stated=stated, rows=len(parts.quotas.rows)
    )
    if quota_rows(parts.quotas) != parts.record["quotas"]:
        matches = Message(N_("{detail} (rows reordered)"), detail=matches)
    quotas_item = CheckItem(
        "quotas digest",
        rebuilt == stated,
        matches
        if rebuilt == stated
        else Message(
            N_("record says {stated}, its embedded quotas give {rebuilt}"),
            stated=stated,
            rebuilt=rebuilt,
        ),
    )
    return [pool_item, quotas_item]


def _types_item(parts: TypesParts) -> CheckItem:
    """The type table keeps its rules: each public type has at least T people, listed once each,
    with a value of every quota feature; each withheld type fewer than T; the order is the rule's;
    the totals are the ones ``inputs.pool`` states."""
    threshold, problems = parts.min_type_size, []
    features = set(parts.quotas.features)
    known = {(q.feature, q.value) for q in parts.quotas.rows}
    public_keys: list[bytes] = []
    digests: list[str] = []
    for u, unit in enumerate(parts.units):
        size = parts.sizes[u]
        if "withheld" in unit:
            digests.append(unit["withheld"])
            if size >= threshold:
                problems.append(
                    Message(
                        N_("type {type} is withheld but has {size} people (T = {threshold})"),
                        type=u,
                        size=size,
                        threshold=threshold,
                    )
                )
            continue
        if digests:
            problems.append(Message(N_("public type {type} comes after a withheld type"), type=u))
        values = parts.values[u] or {}
        public_keys.append(canonical_json(values))
        if set(values) != features or not all((f, v) in known for f, v in values.items()):
            problems.append(
                Message(
                    N_("type {type} does not give a quota row's value of every feature"), type=u
                )
            )
        if size < threshold:
            problems.append(
                Message(
                    N_("type {type} is published with {size} people (T = {threshold})"),
                    type=u,
                    size=size,
                    threshold=threshold,
                )
            )
        if len(unit["members"]) != size:
            problems.append(
                Message(
                    N_("type {type} lists {members} members for {size} people"),
                    type=u,
                    members=len(unit["members"]),
                    size=size,
                )
            )
        if unit["members"] != sorted(unit["members"]):
            problems.append(Message(N_("type {type} does not list its members in order"), type=u))
    if public_keys != sorted(public_keys) or len(set(public_keys)) != len(public_keys):
        problems.append(
            Message(N_("the public types are not each once, in the order of their values"))
        )
    if digests != sorted(digests) or len(set(digests)) != len(digests):
        problems.append(
            Message(N_("the withheld types are not each once, in the order of their digests"))
        )
    names = [p for u, members in enumerate(parts.members) for p in members]
    twice = sorted(p for p, c in Counter(names).items() if c > 1)
    if twice:
        problems.append(Message(N_("listed twice: {ids}"), ids=shortlist(twice)))
    stated = parts.record["inputs"]["pool"]
    summary = publish_types_of(parts.record) or {}
    withheld = parts.withheld
    expected = {
        "types": len(parts.units),
        "withheld_types": len(withheld),
        "withheld_people": sum(parts.sizes[u] for u in withheld),
    }
    for key, value in expected.items():
        if summary.get(key) != value:
            problems.append(
                Message(
                    N_("'{field}' is {stated}, not {value}"),
                    field=f"inputs.pool.publish_types.{key}",
                    stated=repr(summary.get(key)),
                    value=value,
                )
            )
    if stated.get("people") != sum(parts.sizes):
        problems.append(
            Message(
                N_("the record says {stated} people, the types {people}"),
                stated=repr(stated.get("people")),
                people=sum(parts.sizes),
            )
        )
    return item_from(
        "types",
        problems,
        Message(
            N_(
                "{types} types of {people} people; {withheld} types of fewer than {threshold} "
                "({withheld_people} people) withheld, by keyed digest"
            ),
            types=len(parts.units),
            people=sum(parts.sizes),
            withheld=len(withheld),
            threshold=threshold,
            withheld_people=expected["withheld_people"],
        ),
    )


def _quotas_file_item(parts: TypesParts, path: Path, warnings: list[str]) -> CheckItem:
    quota_file = read_quota_file(path)  # an unreadable or invalid file is InputError
    warnings.extend(quota_file.warnings)
    stated = parts.record["inputs"]["quotas"].get("digest")
    digest = quotas_digest(quota_file.quotas)
    if digest != stated:
        return CheckItem(
            "quotas file",
            False,
            Message(
                N_("record says {stated}, {file} gives {digest}"),
                stated=stated,
                file=path.name,
                digest=digest,
            ),
        )
    return CheckItem(
        "quotas file",
        True,
        Message(N_("{file}: canonical digest matches {stated}"), file=path.name, stated=stated),
    )


def _pool_file_item(
    parts: TypesParts, path: Path, key: PseudonymKey, id_column: str | None = None
) -> CheckItem:
    """The pool file, read with the key as the record read it, gives the record's type table,
    the withheld types' digests included; their values then count in every quota check."""
    column, households = pool_columns(parts.record, parts.name)
    if id_column is not None:  # --id-column: the pool file's id column has another name now
        column = id_column
    table = read_table(path)
    try:
        pool_file = parse_pool(
            table,
            parts.quotas,
            column,
            households,
            allow_empty_household(parts.record, parts.name),
            key,
        )
    except InputError as error:
        return CheckItem(
            "pool file",
            False,
            Message(
                N_("{file} does not fit the record's quotas and columns: {problem}"),
                file=path.name,
                problem=error.problems[0],
            ),
        )
    rows = pseudonymised_pool(pool_file.pool, parts.quotas)
    rebuilt = type_table(rows, key, parts.min_type_size)
    if rebuilt.units != parts.units:
        differ = [
            str(u)
            for u in range(max(len(rebuilt.units), len(parts.units)))
            if u >= len(rebuilt.units)
            or u >= len(parts.units)
            or rebuilt.units[u] != parts.units[u]
        ]
        return CheckItem(
            "pool file",
            False,
            Message(
                N_(
                    "{file} read with the key gives another type table (types {types} differ; a "
                    "withheld type's digest differs with another key or another pool)"
                ),
                file=path.name,
                types=shortlist(differ),
            ),
        )
    parts.resolve(rebuilt)
    return CheckItem(
        "pool file",
        True,
        Message(
            N_(
                "{file} read with the key gives the record's type table, all {withheld} withheld "
                "types' digests included (digest {digest})"
            ),
            file=path.name,
            withheld=len(parts.withheld),
            digest=rebuilt.digest,
        ),
    )


def _panel_size_item(parts: TypesParts) -> CheckItem:
    unit_of = parts.unit_of()
    unknown = [p for p in parts.panel if p not in unit_of]
    repeated = [p for p, c in Counter(parts.panel).items() if c > 1]
    problems: list[str] = []
    if len(parts.panel) != parts.k:
        problems.append(
            Message(N_("the panel has {ids} ids where k is {k}"), ids=len(parts.panel), k=parts.k)
        )
    if repeated:
        problems.append(Message(N_("ids listed twice: {ids}"), ids=shortlist(repeated)))
    if unknown:
        problems.append(
            Message(
                N_("neither a public type's member nor a withheld place: {ids}"),
                ids=shortlist(unknown),
            )
        )
    hidden = sum(1 for p in parts.panel if parse_placeholder(p) is not None)
    return item_from(
        "panel size",
        problems,
        Message(
            N_(
                "{k} distinct people of the pool's {size}, {hidden} of them of withheld types "
                "(named by their place: withheld:type:position)"
            ),
            k=parts.k,
            size=sum(parts.sizes),
            hidden=hidden,
        ),
    )


def _quota_problems(
    parts: TypesParts, per_unit: Counter[int], what: int | None
) -> tuple[list[str], int]:
    """The quotas on a panel given as a count per unit: exact where every unit's values are
    known; where ``hidden`` members' values are not, each quota's count lies between what the
    known members give and that plus ``hidden``, and for each feature the hidden members must
    fit: the values below their minimum need no more than ``hidden`` of them, the room below
    the values' maximums holds them all. Returns the problems and ``hidden``."""
    counted: Counter[tuple[str, str]] = Counter()
    hidden = 0
    for unit, count in per_unit.items():
        values = parts.values[unit]
        if values is None:
            hidden += count
            continue
        for feature, value in values.items():
            counted[(feature, value)] += count
    problems: list[str] = []
    for q in parts.quotas.rows:
        low = counted[(q.feature, q.value)]
        if low > q.max or low + hidden < q.min:
            seen = (
                str(low)
                if not hidden
                else Message(N_("{low} to {high}"), low=low, high=low + hidden)
            )
            problems.append(
                _on_panel(
                    what,
                    Message(
                        N_("{feature} {value}: {count}, quota {min}-{max}"),
                        feature=q.feature,
                        value=q.value,
                        count=seen,
                        min=q.min,
                        max=q.max,
                    ),
                )
            )
    if hidden and not problems:
        for feature in parts.quotas.features:
            rows = [q for q in parts.quotas.rows if q.feature == feature]
            need = sum(max(0, q.min - counted[(feature, q.value)]) for q in rows)
            room = sum(max(0, q.max - counted[(feature, q.value)]) for q in rows)
            if need > hidden or room < hidden:
                problems.append(
                    _on_panel(
                        what,
                        Message(
                            N_(
                                "{feature}: the {hidden} members of withheld types cannot fill "
                                "the quotas (they need {need} more, have room for {room})"
                            ),
                            feature=feature,
                            hidden=hidden,
                            need=need,
                            room=room,
                        ),
                    )
                )
    return problems, hidden


def _on_panel(number: int | None, problem: str) -> str:
    """``problem`` of the recorded panel (``number`` None) or of the distribution's panel."""
    if not number:  # None (or "", as the tests call it)
        return problem
    return Message(N_("panel {number}: {problem}"), number=number, problem=problem)


def _quotas_item(parts: TypesParts) -> CheckItem:
    unit_of = parts.unit_of()
    per_unit = Counter(unit_of[p] for p in parts.panel if p in unit_of)
    problems, hidden = _quota_problems(parts, per_unit, None)
    if problems:
        return CheckItem(
            "quotas met", False, Message(N_("not met: {quotas}"), quotas=shortlist(problems))
        )
    if parts.resolved or not hidden:
        detail = Message(
            N_("all {quotas} quotas hold on the recorded panel, exactly"),
            quotas=len(parts.quotas.rows),
        )
    else:
        detail = Message(
            N_(
                "all {quotas} quotas hold on the recorded panel, within bounds: the values of "
                "its {hidden} members of withheld types are not public (exactly with --pool and "
                "--pseudonym-key)"
            ),
            quotas=len(parts.quotas.rows),
            hidden=hidden,
        )
    return CheckItem("quotas met", True, detail)


def _draw_item(parts: TypesParts) -> CheckItem:
    seed = parts.seed
    try:
        draw = derive_draw(parts.record, seed, parts.name)
    except (ValueError, IndexError, KeyError, TypeError) as error:
        return CheckItem(
            "draw",
            False,
            Message(
                N_("seed {seed}: the draw cannot be re-run ({error})"),
                seed=repr(seed),
                error=error_text(error),
            ),
        )
    what = Message(
        N_("draws panel {number} of {of} of the distribution"),
        number=draw.panel_number,
        of=draw.of,
    )
    if draw.panel != parts.panel:
        extra = sorted(set(parts.panel) - set(draw.panel))
        missing = sorted(set(draw.panel) - set(parts.panel))
        return CheckItem(
            "draw",
            False,
            Message(
                N_(
                    "seed {seed} {what}, which is another panel (the record has {extra} which "
                    "the seed does not give; the seed gives {missing})"
                ),
                seed=repr(seed),
                what=what,
                extra=shortlist(extra),
                missing=shortlist(missing),
            ),
        )
    if parts.record.get("draw") != draw.as_record():
        return CheckItem(
            "draw",
            False,
            Message(
                N_("seed {seed} {what}, but the record's draw says {stated}"),
                seed=repr(seed),
                what=what,
                stated=parts.record.get("draw"),
            ),
        )
    return CheckItem(
        "draw",
        True,
        Message(N_("seed {seed} {what}: the recorded panel"), seed=repr(seed), what=what),
    )


def _weights_item(parts: TypesParts) -> CheckItem:
    negative = [str(i + 1) for i, w in enumerate(parts.weights) if w < 0]
    total = math.fsum(parts.weights)
    problems: list[str] = []
    if negative:
        problems.append(
            Message(N_("negative weights on panels {panels}"), panels=shortlist(negative))
        )
    if abs(total - 1) > WEIGHT_TOLERANCE:
        problems.append(
            Message(
                N_("the weights sum to {total}, not 1 (within {tolerance})"),
                total=repr(total),
                tolerance=f"{WEIGHT_TOLERANCE:g}",
            )
        )
    return item_from(
        "distribution weights",
        problems,
        Message(
            N_("{panels} non-negative weights summing to 1 (off by {off})"),
            panels=len(parts.weights),
            off=f"{abs(total - 1):.1e}",
        ),
    )


def _panels_item(parts: TypesParts) -> CheckItem:
    document = parts.record["distribution"]
    problems: list[str] = []
    for key, expected in (
        ("algorithm", parts.algorithm),
        ("k", parts.k),
        ("people", sum(parts.sizes)),
        ("units", parts.units),
    ):
        if document.get(key) != expected:
            problems.append(Message(N_("the distribution's {key} is not the record's"), key=key))
    with_hidden = 0
    for number, pairs in enumerate(parts.counts, start=1):
        per_unit: Counter[int] = Counter()
        for unit, count in pairs:
            per_unit[unit] += count
        if sum(per_unit.values()) != parts.k:
            problems.append(
                Message(
                    N_("panel {number} has {people} people, not {k}"),
                    number=number,
                    people=sum(per_unit.values()),
                    k=parts.k,
                )
            )
        over = [str(u) for u, c in sorted(per_unit.items()) if c > parts.sizes[u]]
        if over:
            problems.append(
                Message(
                    N_("panel {number} takes more than a type has from types {types}"),
                    number=number,
                    types=shortlist(over),
                )
            )
        found, hidden = _quota_problems(parts, per_unit, number)
        problems += found
        with_hidden += hidden > 0
    if parts.resolved or not with_hidden:
        detail = Message(
            N_("all {panels} panels have {k} people and meet every quota exactly"),
            panels=len(parts.weights),
            k=parts.k,
        )
    else:
        detail = Message(
            N_(
                "all {panels} panels have {k} people and meet every quota exactly where no "
                "withheld type is on it, else within bounds (a withheld type's values are not "
                "public: exact with --pool and --pseudonym-key) ({hidden} panels)"
            ),
            panels=len(parts.weights),
            k=parts.k,
            hidden=with_hidden,
        )
    return item_from("distribution panels", problems, detail)


def _implied(parts: TypesParts) -> list[float]:
    """Each type's members' probability as the distribution implies it."""
    implied = [0.0] * len(parts.units)
    for weight, pairs in zip(parts.weights, parts.counts, strict=True):
        for unit, count in pairs:
            implied[unit] += weight * count / parts.sizes[unit]
    return implied


def _never_units(parts: TypesParts) -> set[int]:
    unit_of = parts.unit_of()
    return {unit_of[p] for p in parts.never_selectable if p in unit_of}


def _probabilities_item(parts: TypesParts) -> CheckItem:
    implied, stated = _implied(parts), parts.probabilities
    problems: list[str] = []
    if len(stated) != len(implied):
        problems.append(
            Message(
                N_("{stated} probabilities for {types} types"),
                stated=len(stated),
                types=len(implied),
            )
        )
    elif not all(is_number(p) for p in stated):
        problems.append(Message(N_("a probability is not a number")))
    else:
        differ: list[str] = [
            Message(
                N_("type {type}: record {stated}, distribution {implied}"),
                type=u,
                stated=repr(stated[u]),
                implied=repr(implied[u]),
            )
            for u in range(len(implied))
            if abs(float(stated[u]) - implied[u]) > WEIGHT_TOLERANCE
        ]
        if differ:
            problems.append(
                Message(
                    N_("{count} types differ: {examples}"),
                    count=len(differ),
                    examples=shortlist(differ, 2),
                )
            )
    unit_of = parts.unit_of()
    strangers = [p for p in parts.never_selectable if p not in unit_of]
    if strangers:
        problems.append(
            Message(N_("never selectable but not in the pool: {ids}"), ids=shortlist(strangers))
        )
    positive = [str(u) for u in sorted(_never_units(parts)) if implied[u] > WEIGHT_TOLERANCE]
    if positive:
        problems.append(
            Message(
                N_("types listed as never selectable but on a panel: {types}"),
                types=shortlist(positive),
            )
        )
    return item_from(
        "probabilities",
        problems,
        Message(
            N_("all {types} types' probabilities equal the distribution's"), types=len(implied)
        ),
    )


def _gamma(parts: TypesParts) -> float:
    parameters = parts.record.get("parameters")
    gamma = parameters.get("gamma", 1.0) if isinstance(parameters, dict) else 1.0
    return float(gamma) if is_number(gamma) else math.nan


def _certificate_item(parts: TypesParts) -> CheckItem:
    implied, never = _implied(parts), _never_units(parts)
    everyone = [p for u, p in enumerate(implied) for _ in range(parts.sizes[u])]
    selectable = [p for u, p in enumerate(implied) if u not in never for _ in range(parts.sizes[u])]
    certificate = parts.record["distribution"].get("certificate")
    return certificate_check(certificate, everyone, selectable, parts.k, _gamma(parts))


def _instance(parts: TypesParts) -> Instance:
    """The pool rebuilt from the types (every value known): one person per published name, in
    the order the selection read them: its pseudonyms' order (the auditor's table gives the
    withheld members' pseudonyms). The order matters: NASH's realised point is optimal to its
    certificate's gap, and another order of the same pool can end at another such point, whose
    probabilities differ by more than the recompute's tolerance."""
    index_of = {(q.feature, q.value): v for v, q in enumerate(parts.quotas.rows)}
    features = parts.quotas.features
    rows, ids, keys = [], [], []
    for u, names in enumerate(parts.members):
        values = parts.values[u]
        assert values is not None
        real = parts.pseudonyms[u] if parts.pseudonyms is not None else names
        for person, pseudonym in zip(names, real, strict=True):
            ids.append(person)
            keys.append(pseudonym)
            rows.append([index_of[(f, values[f])] for f in features])
    order = sorted(range(len(ids)), key=lambda i: keys[i])
    pool = Pool(
        ids=tuple(ids[i] for i in order),
        values=np.array([rows[i] for i in order], dtype=np.int64).reshape(len(ids), -1),
        households=None,
        source_rows=np.arange(len(ids), dtype=np.int64),
    )
    return Instance(pool, parts.quotas, parts.k)


def _recompute_item(parts: TypesParts) -> CheckItem:
    from sortition.engine.objectives import fair_distribution  # heavy: loaded on demand
    from sortition.engine.settings import EngineSettings

    if any(v is None for v in parts.values):
        raise InputError(
            [
                problem(
                    N_(
                        "withholds types: --recompute needs their values, so give --pool FILE and "
                        "--pseudonym-key KEY too"
                    ),
                    file=parts.name,
                )
            ]
        )
    instance = _instance(parts)
    try:
        result = fair_distribution(
            instance, parts.algorithm, by_type=True, settings=EngineSettings(gamma=_gamma(parts))
        )
    except InfeasibleError as error:
        return CheckItem(
            "recompute",
            False,
            Message(
                N_("{algorithm} fails: {error}"),
                algorithm=parts.algorithm.upper(),
                error=error_text(error),
            ),
        )
    position = {person: i for i, person in enumerate(instance.pool.ids)}
    probability = result.person_probability
    differ: list[str] = []
    largest = 0.0
    for u, names in enumerate(parts.members):
        again = float(probability[position[names[0]]])
        gap = abs(float(parts.probabilities[u]) - again)
        largest = max(largest, gap)
        if gap > RECOMPUTE_TOLERANCE:
            differ.append(
                Message(
                    N_("type {type} record {stated}, recomputed {recomputed}"),
                    type=u,
                    stated=repr(parts.probabilities[u]),
                    recomputed=f"{again:.9f}",
                )
            )
    certificate = result.distribution.certificate
    stated = parts.record["distribution"].get("certificate")
    if differ and certificate is not None:  # another optimal distribution passes (NASH, ...)
        members = parts.members
        same = same_optimum(
            parts.algorithm,
            [float(parts.probabilities[u]) for u, names in enumerate(members) for _ in names],
            [float(probability[position[name]]) for names in members for name in names],
            parts.k,
            _gamma(parts),
            stated,
            certificate.as_record(),
            other_versions(parts.record),
        )
        if same is not None:
            return CheckItem("recompute", True, same)
    if certificate is not None:
        difference = certificate_difference(stated, certificate.as_record())
        if difference is not None:
            differ.append(difference)
    if differ:
        return CheckItem(
            "recompute",
            False,
            Message(
                N_("{algorithm} run again: {examples}"),
                algorithm=parts.algorithm.upper(),
                examples=shortlist(differ, 2),
            ),
        )
    return CheckItem(
        "recompute",
        True,
        Message(
            N_(
                "{algorithm} run again gives every type's probability and the certificate's "
                "bound within {tolerance} (largest difference {largest})"
            ),
            algorithm=parts.algorithm.upper(),
            tolerance=f"{RECOMPUTE_TOLERANCE:g}",
            largest=f"{largest:.1e}",
        ),
    )
