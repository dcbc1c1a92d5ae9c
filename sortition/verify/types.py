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

from sortition.errors import InfeasibleError, InputError, Problem
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
    is_int,
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
)
from sortition.verify.items import CheckItem, VerifyRequest, item_from, shortlist, version_item
from sortition.verify.parts import pseudonym_key_items

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

    def unit_of(self) -> dict[str, int]:
        return {person: u for u, names in enumerate(self.members) for person in names}

    def resolve(self, table: TypeTable) -> None:
        """The withheld types' values, from the auditor's type table (whose digest matched)."""
        self.values = [dict(v) for v in table.values]
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
        raise reader.fail("'pool' has no types")
    sizes: list[int] = []
    values: list[dict[str, str] | None] = []
    for number, unit in enumerate(units, start=1):
        where = f"pool[{number}]"
        if not isinstance(unit, dict):
            raise reader.fail(f"'{where}' must be an object")
        sizes.append(reader.integer(unit, "people", minimum=1))
        if "withheld" in unit:
            digest = reader.text(unit, "withheld")
            if len(digest) != 64 or not set(digest) <= _HEX or set(unit) != {"withheld", "people"}:
                raise reader.fail(f"'{where}' must be {{'withheld': 64 hex digits, 'people'}}")
            values.append(None)
        else:
            reader.texts(unit, "members")
            found = reader.mapping(unit, "values")
            if not all(isinstance(v, str) for v in found.values()):
                raise reader.fail(f"'{where}.values' must map features to texts")
            values.append(dict(found))
    document = reader.mapping(record, "distribution")
    if reader.text(document, "path") != "types":
        raise reader.fail("a record with type counts has a distribution on the types path")
    weights, counts = [], []
    for number, panel in enumerate(reader.items(document, "panels"), start=1):
        weights.append(reader.number(panel, "weight"))
        pairs = []
        for pair in reader.items(panel, "counts"):
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(is_int(x) for x in pair)
                or not 0 <= pair[0] < len(units)
                or pair[1] < 0
            ):
                raise reader.fail(
                    f"'distribution.panels[{number}].counts' must be [unit index, count] pairs "
                    f"(unit index below {len(units)})"
                )
            pairs.append((int(pair[0]), int(pair[1])))
        counts.append(pairs)
    if not weights:
        raise reader.fail("'distribution.panels' is empty")
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
    items = [version_item(record), _commitment_item(parts)]
    if request.expect is not None:
        derived = commitment_sha256(record)
        items.append(
            CheckItem(
                "published commitment",
                derived == request.expect,
                f"matches the published {request.expect}"
                if derived == request.expect
                else f"the record's committed part hashes to {derived}, not to the published "
                f"{request.expect}",
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


def _commitment_item(parts: TypesParts) -> CheckItem:
    commitment = parts.record.get("commitment")
    stated = commitment.get("sha256") if isinstance(commitment, dict) else None
    derived = commitment_sha256(parts.record)
    if stated != derived:
        return CheckItem(
            "commitment",
            False,
            f"the record states {stated}, its committed part hashes to {derived}",
        )
    return CheckItem("commitment", True, f"the committed part hashes to {derived}")


def _digest_items(parts: TypesParts) -> list[CheckItem]:
    inputs = parts.record["inputs"]
    stated = inputs["pool"].get("digest")
    rebuilt = sha256_hex(canonical_json(parts.units))
    types = len(parts.units)
    pool_item = CheckItem(
        "pool digest",
        rebuilt == stated,
        f"matches {stated}, {types} types of {sum(parts.sizes)} people"
        if rebuilt == stated
        else f"record says {stated}, its embedded type table gives {rebuilt}",
    )
    stated = inputs["quotas"].get("digest")
    rebuilt = quotas_digest(parts.quotas)
    note = "" if quota_rows(parts.quotas) == parts.record["quotas"] else " (rows reordered)"
    quotas_item = CheckItem(
        "quotas digest",
        rebuilt == stated,
        f"matches {stated}, {len(parts.quotas.rows)} quota rows{note}"
        if rebuilt == stated
        else f"record says {stated}, its embedded quotas give {rebuilt}",
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
                problems.append(f"type {u} is withheld but has {size} people (T = {threshold})")
            continue
        if digests:
            problems.append(f"public type {u} comes after a withheld type")
        values = parts.values[u] or {}
        public_keys.append(canonical_json(values))
        if set(values) != features or not all((f, v) in known for f, v in values.items()):
            problems.append(f"type {u} does not give a quota row's value of every feature")
        if size < threshold:
            problems.append(f"type {u} is published with {size} people (T = {threshold})")
        if len(unit["members"]) != size:
            problems.append(f"type {u} lists {len(unit['members'])} members for {size} people")
        if unit["members"] != sorted(unit["members"]):
            problems.append(f"type {u} does not list its members in order")
    if public_keys != sorted(public_keys) or len(set(public_keys)) != len(public_keys):
        problems.append("the public types are not each once, in the order of their values")
    if digests != sorted(digests) or len(set(digests)) != len(digests):
        problems.append("the withheld types are not each once, in the order of their digests")
    names = [p for u, members in enumerate(parts.members) for p in members]
    twice = sorted(p for p, c in Counter(names).items() if c > 1)
    if twice:
        problems.append(f"listed twice: {shortlist(twice)}")
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
                f"'inputs.pool.publish_types.{key}' is {summary.get(key)!r}, not {value}"
            )
    if stated.get("people") != sum(parts.sizes):
        problems.append(
            f"the record says {stated.get('people')!r} people, the types {sum(parts.sizes)}"
        )
    return item_from(
        "types",
        problems,
        f"{len(parts.units)} types of {sum(parts.sizes)} people; {len(withheld)} types of fewer "
        f"than {threshold} ({expected['withheld_people']} people) withheld, by keyed digest",
    )


def _quotas_file_item(parts: TypesParts, path: Path, warnings: list[str]) -> CheckItem:
    quota_file = read_quota_file(path)  # an unreadable or invalid file is InputError
    warnings.extend(quota_file.warnings)
    stated = parts.record["inputs"]["quotas"].get("digest")
    digest = quotas_digest(quota_file.quotas)
    if digest != stated:
        return CheckItem("quotas file", False, f"record says {stated}, {path.name} gives {digest}")
    return CheckItem("quotas file", True, f"{path.name}: canonical digest matches {stated}")


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
            f"{path.name} does not fit the record's quotas and columns: {error.problems[0]}",
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
            f"{path.name} read with the key gives another type table (types {shortlist(differ)} "
            "differ; a withheld type's digest differs with another key or another pool)",
        )
    parts.resolve(rebuilt)
    return CheckItem(
        "pool file",
        True,
        f"{path.name} read with the key gives the record's type table, all "
        f"{len(parts.withheld)} withheld types' digests included (digest {rebuilt.digest})",
    )


def _panel_size_item(parts: TypesParts) -> CheckItem:
    unit_of = parts.unit_of()
    unknown = [p for p in parts.panel if p not in unit_of]
    repeated = [p for p, c in Counter(parts.panel).items() if c > 1]
    problems = []
    if len(parts.panel) != parts.k:
        problems.append(f"the panel has {len(parts.panel)} ids where k is {parts.k}")
    if repeated:
        problems.append(f"ids listed twice: {shortlist(repeated)}")
    if unknown:
        problems.append(
            f"neither a public type's member nor a withheld place: {shortlist(unknown)}"
        )
    hidden = sum(1 for p in parts.panel if parse_placeholder(p) is not None)
    return item_from(
        "panel size",
        problems,
        f"{parts.k} distinct people of the pool's {sum(parts.sizes)}, {hidden} of them of "
        "withheld types (named by their place: withheld:type:position)",
    )


def _quota_problems(parts: TypesParts, per_unit: Counter[int], what: str) -> tuple[list[str], int]:
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
    problems = []
    for q in parts.quotas.rows:
        low = counted[(q.feature, q.value)]
        if low > q.max or low + hidden < q.min:
            seen = str(low) if not hidden else f"{low} to {low + hidden}"
            problems.append(f"{what}{q.feature} {q.value}: {seen}, quota {q.min}-{q.max}")
    if hidden and not problems:
        for feature in parts.quotas.features:
            rows = [q for q in parts.quotas.rows if q.feature == feature]
            need = sum(max(0, q.min - counted[(feature, q.value)]) for q in rows)
            room = sum(max(0, q.max - counted[(feature, q.value)]) for q in rows)
            if need > hidden or room < hidden:
                problems.append(
                    f"{what}{feature}: the {hidden} members of withheld types cannot fill the "
                    f"quotas (they need {need} more, have room for {room})"
                )
    return problems, hidden


def _bounds_note(parts: TypesParts, hidden_somewhere: bool) -> str:
    if parts.resolved or not hidden_somewhere:
        return "exactly"
    return (
        "exactly where no withheld type is on it, else within bounds (a withheld type's values "
        "are not public: exact with --pool and --pseudonym-key)"
    )


def _quotas_item(parts: TypesParts) -> CheckItem:
    unit_of = parts.unit_of()
    per_unit = Counter(unit_of[p] for p in parts.panel if p in unit_of)
    problems, hidden = _quota_problems(parts, per_unit, "")
    if problems:
        return CheckItem("quotas met", False, f"not met: {shortlist(problems)}")
    return CheckItem(
        "quotas met",
        True,
        f"all {len(parts.quotas.rows)} quotas hold on the recorded panel, "
        + (
            "exactly"
            if parts.resolved or not hidden
            else f"within bounds: the values of its {hidden} members of withheld types are not "
            "public (exactly with --pool and --pseudonym-key)"
        ),
    )


def _draw_item(parts: TypesParts) -> CheckItem:
    seed = parts.seed
    try:
        draw = derive_draw(parts.record, seed, parts.name)
    except (ValueError, IndexError, KeyError, TypeError) as error:
        return CheckItem("draw", False, f"seed {seed!r}: the draw cannot be re-run ({error})")
    what = f"draws panel {draw.panel_number} of {draw.of} of the distribution"
    if draw.panel != parts.panel:
        extra = sorted(set(parts.panel) - set(draw.panel))
        missing = sorted(set(draw.panel) - set(parts.panel))
        return CheckItem(
            "draw",
            False,
            f"seed {seed!r} {what}, which is another panel (the record has {shortlist(extra)} "
            f"which the seed does not give; the seed gives {shortlist(missing)})",
        )
    if parts.record.get("draw") != draw.as_record():
        return CheckItem(
            "draw",
            False,
            f"seed {seed!r} {what}, but the record's draw says {parts.record.get('draw')}",
        )
    return CheckItem("draw", True, f"seed {seed!r} {what}: the recorded panel")


def _weights_item(parts: TypesParts) -> CheckItem:
    negative = [str(i + 1) for i, w in enumerate(parts.weights) if w < 0]
    total = math.fsum(parts.weights)
    problems = []
    if negative:
        problems.append(f"negative weights on panels {shortlist(negative)}")
    if abs(total - 1) > WEIGHT_TOLERANCE:
        problems.append(f"the weights sum to {total!r}, not 1 (within {WEIGHT_TOLERANCE:g})")
    return item_from(
        "distribution weights",
        problems,
        f"{len(parts.weights)} non-negative weights summing to 1 (off by {abs(total - 1):.1e})",
    )


def _panels_item(parts: TypesParts) -> CheckItem:
    document = parts.record["distribution"]
    problems = []
    for key, expected in (
        ("algorithm", parts.algorithm),
        ("k", parts.k),
        ("people", sum(parts.sizes)),
        ("units", parts.units),
    ):
        if document.get(key) != expected:
            problems.append(f"the distribution's {key} is not the record's")
    with_hidden = 0
    for number, pairs in enumerate(parts.counts, start=1):
        per_unit: Counter[int] = Counter()
        for unit, count in pairs:
            per_unit[unit] += count
        if sum(per_unit.values()) != parts.k:
            problems.append(f"panel {number} has {sum(per_unit.values())} people, not {parts.k}")
        over = [str(u) for u, c in sorted(per_unit.items()) if c > parts.sizes[u]]
        if over:
            problems.append(
                f"panel {number} takes more than a type has from types {shortlist(over)}"
            )
        found, hidden = _quota_problems(parts, per_unit, f"panel {number}: ")
        problems += found
        with_hidden += hidden > 0
    detail = f"all {len(parts.weights)} panels have {parts.k} people and meet every quota " + (
        _bounds_note(parts, with_hidden > 0)
        + ("" if parts.resolved or not with_hidden else f" ({with_hidden} panels)")
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
    problems = []
    if len(stated) != len(implied):
        problems.append(f"{len(stated)} probabilities for {len(implied)} types")
    elif not all(is_number(p) for p in stated):
        problems.append("a probability is not a number")
    else:
        differ = [
            f"type {u}: record {stated[u]!r}, distribution {implied[u]!r}"
            for u in range(len(implied))
            if abs(float(stated[u]) - implied[u]) > WEIGHT_TOLERANCE
        ]
        if differ:
            problems.append(f"{len(differ)} types differ: {shortlist(differ, 2)}")
    unit_of = parts.unit_of()
    strangers = [p for p in parts.never_selectable if p not in unit_of]
    if strangers:
        problems.append(f"never selectable but not in the pool: {shortlist(strangers)}")
    positive = [str(u) for u in sorted(_never_units(parts)) if implied[u] > WEIGHT_TOLERANCE]
    if positive:
        problems.append(f"types listed as never selectable but on a panel: {shortlist(positive)}")
    return item_from(
        "probabilities",
        problems,
        f"all {len(implied)} types' probabilities equal the distribution's",
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
    """The pool rebuilt from the types (every value known): one person per published name."""
    index_of = {(q.feature, q.value): v for v, q in enumerate(parts.quotas.rows)}
    features = parts.quotas.features
    rows, ids = [], []
    for u, names in enumerate(parts.members):
        values = parts.values[u]
        assert values is not None
        for person in names:
            ids.append(person)
            rows.append([index_of[(f, values[f])] for f in features])
    order = sorted(range(len(ids)), key=lambda i: ids[i])
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
                Problem(
                    "withholds types: --recompute needs their values, so give --pool FILE and "
                    "--pseudonym-key KEY too",
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
        return CheckItem("recompute", False, f"{parts.algorithm.upper()} fails: {error}")
    position = {person: i for i, person in enumerate(instance.pool.ids)}
    probability = result.person_probability
    differ, largest = [], 0.0
    for u, names in enumerate(parts.members):
        again = float(probability[position[names[0]]])
        gap = abs(float(parts.probabilities[u]) - again)
        largest = max(largest, gap)
        if gap > RECOMPUTE_TOLERANCE:
            differ.append(f"type {u} record {parts.probabilities[u]!r}, recomputed {again:.9f}")
    certificate = result.distribution.certificate
    stated = parts.record["distribution"].get("certificate")
    if certificate is not None and isinstance(stated, dict):
        bound = stated.get("bound")
        again_bound = float(certificate.as_record()["bound"])
        if not is_number(bound) or abs(float(bound) - again_bound) > RECOMPUTE_TOLERANCE:
            differ.append(f"certificate bound: record {bound!r}, recomputed {again_bound!r}")
    if differ:
        return CheckItem(
            "recompute",
            False,
            f"{parts.algorithm.upper()} run again: {shortlist(differ, 2)}",
        )
    return CheckItem(
        "recompute",
        True,
        f"{parts.algorithm.upper()} run again gives every type's probability and the "
        f"certificate's bound within {RECOMPUTE_TOLERANCE:g} (largest difference {largest:.1e})",
    )
