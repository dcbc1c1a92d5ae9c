"""Reading a selection record's parts back into the model: typed access with clear errors, and
the canonical pool and quotas rebuilt from the forms the record embeds."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, TypeGuard

import numpy as np

from sortition.errors import N_, InputError, Message, problem
from sortition.model import Instance, Pool, Quotas, ValueQuota
from sortition.privacy.keys import PseudonymKey


class RecordReader:
    """Typed access to a record's keys; anything missing or of the wrong type is InputError."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, message: str) -> InputError:
        """``invalid record: message`` in the record's file; ``message`` is translated where it
        is a ``Message`` (the reader's own are), shown as it is otherwise."""
        return InputError(
            [problem(N_("invalid record: {message}"), file=self.name, message=message)]
        )

    def get(self, data: Any, path: str) -> Any:
        value = data
        for key in path.split("."):
            if not isinstance(value, dict) or key not in value:
                raise self.fail(Message(N_("missing key '{path}'"), path=path))
            value = value[key]
        return value

    def text(self, data: Any, path: str) -> str:
        value = self.get(data, path)
        if not isinstance(value, str):
            raise self.fail(Message(N_("'{path}' must be text"), path=path))
        return value

    def integer(self, data: Any, path: str, minimum: int = 0) -> int:
        value = self.get(data, path)
        if not is_int(value) or value < minimum:
            raise self.fail(
                Message(
                    N_("'{path}' must be a whole number ≥ {minimum}"), path=path, minimum=minimum
                )
            )
        return int(value)

    def number(self, data: Any, path: str) -> float:
        value = self.get(data, path)
        if not is_number(value):
            raise self.fail(Message(N_("'{path}' must be a number"), path=path))
        return float(value)

    def items(self, data: Any, path: str) -> list[Any]:
        value = self.get(data, path)
        if not isinstance(value, list):
            raise self.fail(Message(N_("'{path}' must be a list"), path=path))
        return value

    def mapping(self, data: Any, path: str) -> dict[str, Any]:
        value = self.get(data, path)
        if not isinstance(value, dict):
            raise self.fail(Message(N_("'{path}' must be an object"), path=path))
        return value

    def texts(self, data: Any, path: str) -> list[str]:
        values = self.items(data, path)
        if not all(isinstance(v, str) for v in values):
            raise self.fail(Message(N_("'{path}' must be a list of texts"), path=path))
        return values


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def allow_empty_household(record: dict[str, Any], name: str = "record.json") -> bool:
    """``inputs.pool.allow_empty_household``: whether people with an empty household cell were
    households of their own (false when absent, as in records written before the key existed)."""
    pool = RecordReader(name).mapping(record, "inputs.pool")
    value = pool.get("allow_empty_household", False)
    if not isinstance(value, bool):
        raise RecordReader(name).fail(
            Message(N_("'{path}' must be true or false"), path="inputs.pool.allow_empty_household")
        )
    return value


def pseudonym_method(record: dict[str, Any], name: str = "record.json") -> dict[str, Any] | None:
    """``inputs.pool.pseudonyms`` (version 5): ``{"method", "length", "key_fingerprint"}`` when
    the ids are keyed pseudonyms, None when they are the pool file's own ids (or the record is
    older)."""
    reader = RecordReader(name)
    found = reader.mapping(record, "inputs.pool").get("pseudonyms")
    if found is None:
        return None
    if not isinstance(found, dict):
        raise reader.fail(
            Message(N_("'{path}' must be an object or null"), path="inputs.pool.pseudonyms")
        )
    reader.text(found, "method")
    reader.integer(found, "length", minimum=1)
    reader.text(found, "key_fingerprint")
    return found


def pool_columns(record: dict[str, Any], name: str = "record.json") -> tuple[str | None, list[str]]:
    """``inputs.pool.id_column`` (None: row numbers) and ``household_columns``: how to read the
    pool file again as the record read it."""
    reader = RecordReader(name)
    pool = reader.mapping(record, "inputs.pool")
    column = pool.get("id_column")
    households = pool.get("household_columns") or []
    if not isinstance(column, str | None) or not isinstance(households, list):
        raise reader.fail(
            Message(N_("'inputs.pool.id_column' must be text or null, 'household_columns' a list"))
        )
    if not all(isinstance(h, str) for h in households):
        raise reader.fail(
            Message(N_("'{path}' must list column names"), path="inputs.pool.household_columns")
        )
    return column, households


def canonical_inputs(record: dict[str, Any], name: str = "record.json") -> tuple[Pool, Quotas]:
    """The canonical ``Pool`` and ``Quotas`` rebuilt from a record's embedded ``pool`` and
    ``quotas`` (rows sorted as the canonical forms sort them, households renumbered by first
    appearance in id order). InputError when the embedded forms are not valid."""
    reader = RecordReader(name)
    inputs = record.get("inputs")
    pool = inputs.get("pool") if isinstance(inputs, dict) else None
    if isinstance(pool, dict) and pool.get("publish_types") is not None:
        raise reader.fail(
            Message(
                N_(
                    "it lists type counts, not the people (--publish-types): this step needs the "
                    "people of the pool, which such a record does not publish"
                )
            )
        )
    quotas = _embedded_quotas(reader, record)
    return _embedded_pool(reader, record, quotas), quotas


def embedded_quotas(record: dict[str, Any], name: str = "record.json") -> Quotas:
    """The canonical ``Quotas`` a record embeds (InputError when they are not valid)."""
    return _embedded_quotas(RecordReader(name), record)


def _embedded_quotas(reader: RecordReader, record: dict[str, Any]) -> Quotas:
    """The record's ``quotas``: each row's numbers valid, no (feature, value) twice."""
    quota_list: list[ValueQuota] = []
    for number, row in enumerate(reader.items(record, "quotas"), start=1):
        where = f"quotas[{number}]"
        if not isinstance(row, dict):
            raise reader.fail(Message(N_("'{path}' must be an object"), path=where))
        flex: dict[str, int | None] = {}
        for key in ("min_flex", "max_flex"):
            value = row.get(key)
            if value is not None and (not is_int(value) or value < 0):
                raise reader.fail(
                    Message(
                        N_("'{path}' must be a whole number ≥ 0 or null"), path=f"{where}.{key}"
                    )
                )
            flex[key] = value
        low, high = reader.integer(row, "min"), reader.integer(row, "max")
        if low > high:
            raise reader.fail(
                Message(
                    N_("'{path}' has min {low} above max {high}"), path=where, low=low, high=high
                )
            )
        quota_list.append(
            ValueQuota(
                reader.text(row, "feature"),
                reader.text(row, "value"),
                low,
                high,
                flex["min_flex"],
                flex["max_flex"],
            )
        )
    if not quota_list:
        raise reader.fail(Message(N_("'{path}' has no rows"), path="quotas"))
    quota_list.sort(key=lambda q: (q.feature, q.value))
    keys = [(q.feature, q.value) for q in quota_list]
    repeated = [key for key, count in Counter(keys).items() if count > 1]
    if repeated:
        raise reader.fail(
            Message(
                N_("'quotas' lists {feature} {value} more than once"),
                feature=repeated[0][0],
                value=repeated[0][1],
            )
        )
    return Quotas(tuple(quota_list))


def _embedded_pool(reader: RecordReader, record: dict[str, Any], quotas: Quotas) -> Pool:
    """The record's ``pool`` against its quotas: text values of exactly the quota features, each
    with a quota row; ids once each; households for everyone or for nobody."""
    rows = reader.items(record, "pool")
    if not rows:
        raise reader.fail(Message(N_("'{path}' has no people"), path="pool"))
    features = quotas.features
    index_of = {(q.feature, q.value): v for v, q in enumerate(quotas.rows)}
    people = [
        _embedded_person(reader, row, number, features, index_of)
        for number, row in enumerate(rows, start=1)
    ]
    repeated_ids = [person for person, count in Counter(p[0] for p in people).items() if count > 1]
    if repeated_ids:
        raise reader.fail(Message(N_("'pool' lists id '{id}' more than once"), id=repeated_ids[0]))
    with_household = sum(p[1] is not None for p in people)
    if with_household not in (0, len(people)):
        raise reader.fail(Message(N_("'pool' gives a household to some people but not to others")))
    people.sort(key=lambda p: p[0])
    households = None
    if with_household:
        numbers: dict[int, int] = {}
        households = np.array(
            [numbers.setdefault(int(p[1]), len(numbers)) for p in people if p[1] is not None],
            dtype=np.int64,
        )
    return Pool(
        ids=tuple(p[0] for p in people),
        values=np.array([p[2] for p in people], dtype=np.int64).reshape(len(people), -1),
        households=households,
        source_rows=np.arange(len(people), dtype=np.int64),
    )


def _embedded_person(
    reader: RecordReader,
    row: Any,
    number: int,
    features: tuple[str, ...],
    index_of: dict[tuple[str, str], int],
) -> tuple[str, int | None, list[int]]:
    """(id, household, quota row index per feature) of the pool's row ``number`` (from 1);
    ``index_of`` maps (feature, value) to its quota row."""
    where = f"pool[{number}]"
    if not isinstance(row, dict):
        raise reader.fail(Message(N_("'{path}' must be an object"), path=where))
    person = reader.text(row, "id")
    household = reader.get(row, "household")
    if household is not None and (not is_int(household) or household < 0):
        raise reader.fail(
            Message(N_("'{path}' must be a whole number ≥ 0 or null"), path=f"{where}.household")
        )
    values = reader.mapping(row, "values")
    if set(values) != set(features) or not all(isinstance(v, str) for v in values.values()):
        raise reader.fail(
            Message(
                N_(
                    "'{path}' (id '{id}') must give a text value for exactly the quota "
                    "features {features}"
                ),
                path=where,
                id=person,
                features=", ".join(features),
            )
        )
    codes = []
    for feature in features:
        code = index_of.get((feature, values[feature]))
        if code is None:
            raise reader.fail(
                Message(
                    N_("'{path}' (id '{id}'): {feature} {value} has no quota row"),
                    path=where,
                    id=person,
                    feature=feature,
                    value=repr(values[feature]),
                )
            )
        codes.append(code)
    return person, household, codes


def record_instance(record: dict[str, Any], name: str = "record.json") -> Instance:
    """The instance a record was drawn from: its embedded pool and quotas and its k."""
    pool, quotas = canonical_inputs(record, name)
    return Instance(pool, quotas, RecordReader(name).integer(record, "k", minimum=1))


def check_pseudonym_key(
    document: dict[str, Any], key: PseudonymKey | None, name: str = "record.json"
) -> None:
    """The pool file can be read as the record read it: with the key whose fingerprint the
    record states when its ids are pseudonyms, without a key when they are not (InputError)."""
    method = pseudonym_method(document, name)
    if method is None:
        if key is not None:
            raise InputError(
                [
                    problem(
                        N_(
                            "names people by the pool file's own ids, not by pseudonyms: leave "
                            "out --pseudonym-key"
                        ),
                        file=name,
                    )
                ]
            )
        return
    if key is None:
        raise InputError(
            [
                problem(
                    N_(
                        "names people by keyed pseudonyms: reading the pool file again needs the "
                        "organiser's key (--pseudonym-key FILE)"
                    ),
                    file=name,
                )
            ]
        )
    if key.fingerprint != method["key_fingerprint"]:
        raise InputError(
            [
                problem(
                    N_(
                        "was made with the key whose fingerprint is {stated}; {key} has "
                        "fingerprint {fingerprint}: it is another key"
                    ),
                    file=name,
                    stated=method["key_fingerprint"],
                    key=key.name,
                    fingerprint=key.fingerprint,
                )
            ]
        )


# The kinds of record as a reader sees them (the record's "kind" keeps the English word).
KIND_NAMES = {
    "selection": N_("selection"),
    "invitation": N_("invitation"),
    "replacement": N_("replacement"),
    "groups": N_("groups"),
    "alternates": N_("alternates"),
}


def kind_name(kind: object) -> str:
    """A record's kind in the reader's language (as a ``Message``); an unknown one as written."""
    name = KIND_NAMES.get(str(kind))
    return Message(name) if name is not None else str(kind)
