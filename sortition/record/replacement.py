"""The replacement record's rules: the chain of records, the candidates and the derived quotas.

``replace`` builds its draw from these functions and ``verify`` re-derives it from them, so the
two cannot disagree (docs/dropouts.md):

* a replacement record embeds the record it builds on (``previous``: the selection record, or an
  earlier replacement record, which embeds its own) and states the SHA-256 of that record's text
  as sortition writes it (``builds_on.sha256``); following ``previous`` leads back to the
  original selection record: the *chain*;
* the current panel is the last record's ``panel``; the dropouts must be on it, the unavailable
  people in the pool and not on it;
* candidates: the original pool minus the current panel, minus everyone who dropped out or was
  listed as unavailable anywhere in the chain, minus the households of the members who stay;
* derived quotas, for r = number of dropouts: for each value of the original quotas
  [max(0, min - stay), max - stay] (min_flex and max_flex moved the same way), where stay counts
  the staying members with that value; the replacement set has exactly r people.

Version 1 of the replacement record (docs/record.md) holds, besides the chain: ``round`` (1 for
the first replacement), ``dropouts`` and ``unavailable`` (sorted ids), ``replacements`` (the ids
drawn) and ``panel`` (the new full panel), and the replacement draw in the selection record's
terms: ``inputs`` (digests of the candidates and the derived quotas), ``k`` = r, ``algorithm``,
``parameters``, ``probabilities``/``distribution``/``lottery`` for the fair algorithms,
``quotas`` (the derived quotas), ``pool`` (the candidates, pseudonymised), ``commitment``,
``seed`` and ``draw``. Version 2 has the same keys; its commitment (``replace --commit-only``'s
commitment.json, sortition.record.draw.REPLACEMENT_COMMITMENT_KEYS) also fixes ``round``,
``builds_on``, ``dropouts``, ``unavailable`` and ``previous``, so that nobody who knows the seed
can still choose who dropped out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sortition.engine.subset import best_subset
from sortition.errors import N_, InputError, Message, problem
from sortition.io.outputs import json_text
from sortition.model import Instance, Pool, Quotas, ValueQuota
from sortition.record.reader import RecordReader, record_instance

REPLACEMENT_VERSION = 2
REPLACEMENT_VERSIONS = (1, 2)  # the replacement record versions verify and replace read
COMMITTED_REPLACEMENT_VERSIONS = (2,)  # the versions of replace --commit-only's commitment.json


def record_sha256(record: dict[str, Any]) -> str:
    """SHA-256 of a record's text as sortition writes it (``json_text``): for a record file that
    sortition wrote, the SHA-256 of the file itself."""
    return hashlib.sha256(json_text(record).encode("utf-8")).hexdigest()


def chain_of(record: dict[str, Any], name: str = "replacement.json") -> list[dict[str, Any]]:
    """The records of a chain, the original selection record first and ``record`` last."""
    reader = RecordReader(name)
    chain = [record]
    while chain[-1].get("kind") == "replacement":
        if len(chain) > 10_000:
            raise reader.fail(Message(N_("the chain of 'previous' records does not end")))
        chain.append(reader.mapping(chain[-1], "previous"))
    if chain[-1].get("kind") != "selection":
        raise reader.fail(
            Message(N_("the chain of 'previous' records does not end in a selection record"))
        )
    chain.reverse()
    return chain


@dataclass(frozen=True)
class ChainState:
    """What the chain up to some record says about the next round."""

    root: dict[str, Any]  # the original selection record
    instance: Instance  # the original pool, quotas and k (from the selection record)
    panel: tuple[str, ...]  # the current panel, in id order
    dropped: tuple[str, ...]  # everyone who dropped out in an earlier round
    unavailable: tuple[str, ...]  # everyone listed as unavailable in an earlier round
    round: int  # the number of the next round (1 after the selection)


def chain_state(record: dict[str, Any], name: str = "replacement.json") -> ChainState:
    """The state after ``record`` (a selection record or a replacement record)."""
    reader = RecordReader(name)
    chain = chain_of(record, name)
    root = chain[0]
    dropped: list[str] = []
    unavailable: list[str] = []
    for link in chain[1:]:
        dropped += reader.texts(link, "dropouts")
        unavailable += reader.texts(link, "unavailable")
    instance = record_instance(root, name)
    panel = reader.texts(record, "panel")
    known = set(instance.pool.ids)
    for what, people in (("panel", panel), ("dropouts", dropped), ("unavailable", unavailable)):
        strangers = sorted(set(people) - known)
        if strangers:
            raise reader.fail(
                Message(
                    N_(
                        "the chain's {what} names '{id}', who is not in the selection record's pool"
                    ),
                    what=what,
                    id=strangers[0],
                )
            )
    if len(set(panel)) != len(panel):
        raise reader.fail(Message(N_("the panel lists someone twice")))
    return ChainState(
        root=root,
        instance=instance,
        panel=tuple(sorted(panel)),
        dropped=tuple(sorted(set(dropped))),
        unavailable=tuple(sorted(set(unavailable))),
        round=len(chain),
    )


def id_problems(
    state: ChainState, dropouts: Sequence[str], unavailable: Sequence[str]
) -> list[tuple[str, int | None, Message]]:
    """Why these dropouts and unavailable people cannot be used for the next round, as (list,
    position in it or None, message); empty when they can. A dropout must be on the current
    panel, an unavailable person in the pool and not on it; nobody twice."""
    problems: list[tuple[str, int | None, Message]] = []
    on_panel = set(state.panel)
    in_pool = set(state.instance.pool.ids)
    if not dropouts:
        message = Message(N_("no dropouts given: a replacement needs at least one"))
        problems.append(("dropouts", None, message))
    for i, person in enumerate(dropouts):
        if person not in on_panel:
            message = (
                Message(N_("dropout '{id}' is in the pool but not on the current panel"), id=person)
                if person in in_pool
                else Message(N_("dropout '{id}' is not on the current panel"), id=person)
            )
            problems.append(("dropouts", i, message))
    for i, person in enumerate(unavailable):
        if person not in in_pool:
            message = Message(N_("unavailable '{id}' is not in the pool"), id=person)
            problems.append(("unavailable", i, message))
        elif person in on_panel:
            message = Message(
                N_(
                    "unavailable '{id}' is on the current panel (a member who cannot come is "
                    "a dropout)"
                ),
                id=person,
            )
            problems.append(("unavailable", i, message))
    for what, people in (("dropouts", dropouts), ("unavailable", unavailable)):
        seen: set[str] = set()
        for i, person in enumerate(people):
            if person in seen:
                problems.append((what, i, Message(N_("'{id}' is listed twice"), id=person)))
            seen.add(person)
    return problems


@dataclass(frozen=True)
class ReplacementBasis:
    """The replacement draw that the chain and the dropouts imply: its instance (the candidates,
    the derived quotas, k = number of dropouts) and what it was derived from."""

    state: ChainState
    dropouts: tuple[str, ...]  # sorted
    unavailable: tuple[str, ...]  # sorted
    stayers: tuple[str, ...]  # the current panel minus the dropouts, in id order
    stay: np.ndarray  # (V,) staying members with each quota value
    instance: Instance  # candidates, derived quotas, k = r

    @property
    def candidates(self) -> tuple[str, ...]:
        return self.instance.pool.ids

    def final_panel(self, replacements: Sequence[str]) -> list[str]:
        """The new full panel: the stayers and the replacements, in id order."""
        return sorted([*self.stayers, *replacements])


def replacement_basis(
    state: ChainState,
    dropouts: Sequence[str],
    unavailable: Sequence[str] = (),
    only: Sequence[str] | None = None,
) -> ReplacementBasis:
    """The candidates and the derived quotas (InputError when ``id_problems`` finds any); with
    ``only`` (the alternates chosen after the draw), the candidates among those people only."""
    problems = id_problems(state, dropouts, unavailable)
    if problems:
        raise InputError(
            [
                problem(N_("{list}: {message}"), list=what, message=message)
                for what, _, message in problems
            ]
        )
    original = state.instance
    pool = original.pool
    position = {person: i for i, person in enumerate(pool.ids)}
    gone = set(dropouts)
    stayers = tuple(p for p in state.panel if p not in gone)
    stay_index = np.array([position[p] for p in stayers], dtype=np.int64)
    excluded = np.zeros(pool.size, dtype=bool)
    for person in (*state.panel, *state.dropped, *state.unavailable, *unavailable):
        excluded[position[person]] = True
    if only is not None:
        allowed = np.zeros(pool.size, dtype=bool)
        allowed[[position[p] for p in only if p in position]] = True
        excluded |= ~allowed
    if pool.households is not None and stay_index.size:
        excluded |= np.isin(pool.households, pool.households[stay_index])
    stay = original.panel_counts(stay_index)
    candidates = subpool(pool, np.flatnonzero(~excluded))
    quotas = derived_quotas(original.quotas, stay)
    return ReplacementBasis(
        state=state,
        dropouts=tuple(sorted(dropouts)),
        unavailable=tuple(sorted(unavailable)),
        stayers=stayers,
        stay=stay,
        instance=Instance(candidates, quotas, len(dropouts)),
    )


def subpool(pool: Pool, keep: np.ndarray) -> Pool:
    """The people at canonical positions ``keep`` (ascending), households renumbered 0, 1, ...
    by first appearance in id order."""
    households = None
    if pool.households is not None:
        numbers: dict[int, int] = {}
        households = np.array(
            [numbers.setdefault(int(h), len(numbers)) for h in pool.households[keep]],
            dtype=np.int64,
        )
    return Pool(
        ids=tuple(pool.ids[int(i)] for i in keep),
        values=pool.values[keep],
        households=households,
        source_rows=pool.source_rows[keep],
    )


def derived_quotas(quotas: Quotas, stay: np.ndarray) -> Quotas:
    """Each value's [max(0, min - stay), max - stay]; min_flex and max_flex moved alike (max
    never below 0, which a panel that met the quotas cannot reach)."""
    rows = []
    for quota, count in zip(quotas.rows, stay.tolist(), strict=True):
        rows.append(
            ValueQuota(
                quota.feature,
                quota.value,
                max(0, quota.min - count),
                max(0, quota.max - count),
                None if quota.min_flex is None else max(0, quota.min_flex - count),
                None if quota.max_flex is None else max(0, quota.max_flex - count),
            )
        )
    return Quotas(tuple(rows))


def pick_size(instance: Instance) -> int:
    """How many replacements the alternates left can give: the dropouts, at most one per
    household of the alternates left."""
    return min(instance.k, instance.pool.household_count())


def alternates_pick(instance: Instance) -> tuple[int, np.ndarray]:
    """The best subset of the candidates (here: the alternates left) for the replacement draw's
    instance: ``pick_size`` people, at most one per household, with the smallest deviation
    from the derived quotas (``sortition.engine.subset``): (deviation, 0/1 per candidate)."""
    pool, quotas = instance.pool, instance.quotas
    incidence = np.zeros((pool.size, len(quotas.rows)), dtype=np.int64)
    for i in range(pool.size):
        incidence[i, pool.values[i]] = 1
    households: list[list[int]] = []
    if pool.households is not None:
        groups: dict[int, list[int]] = {}
        for i, h in enumerate(pool.households.tolist()):
            groups.setdefault(int(h), []).append(i)
        households = [g for _, g in sorted(groups.items()) if len(g) > 1]
    return best_subset(
        incidence,
        np.ones(pool.size, dtype=np.int64),
        households,
        np.zeros(len(quotas.rows), dtype=np.int64),
        pick_size(instance),
        quotas.mins,
        quotas.maxs,
    )
