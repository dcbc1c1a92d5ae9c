"""Verify an alternates record: re-run the choice from the record alone (the embedded panel
record, the dropout model as recorded, the seed, the numbers of scenarios, the search settings)
and compare, item by item: ``builds on`` (the embedded record's SHA-256), ``alternates`` (the
chosen people), ``baselines`` (both baselines' people) and ``figures`` (every figure of the
comparison). A fitted model is re-used as recorded (the past panel it was fitted on is not in the
record). The choice is deterministic (CP-SAT on one thread, deterministic time), so the same tool
and OR-Tools versions give the same people; other versions may not (``record version`` names
them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sortition.engine import alternates as al
from sortition.engine.dropout_model import model_from_record, panel_stay
from sortition.errors import N_, Message
from sortition.record.reader import RecordReader, kind_name
from sortition.record.replacement import chain_state, record_sha256
from sortition.verify.items import (
    CheckItem,
    VerifyRequest,
    item_from,
    shortlist,
    version_item,
)


def verify_alternates(request: VerifyRequest) -> list[CheckItem]:
    record, name = request.record, request.name
    reader = RecordReader(name)
    previous = reader.mapping(record, "previous")
    state = chain_state(previous, name)
    instance = state.instance
    position = {person: i for i, person in enumerate(instance.pool.ids)}
    panel = np.array([position[p] for p in state.panel], dtype=np.int64)
    gone = np.array([position[p] for p in (*state.dropped, *state.unavailable)], dtype=np.int64)
    model = model_from_record(reader.mapping(record, "model"), name)
    choice = al.derive_alternates(
        instance,
        panel,
        gone,
        reader.integer(record, "budget", minimum=1),
        panel_stay(instance, panel, model),
        reader.text(record, "seed.value"),
        reader.integer(record, "scenarios.training", minimum=1),
        reader.integer(record, "scenarios.evaluation", minimum=1),
        reader.number(record, "search.effort"),
        reader.integer(record, "search.shortlist", minimum=1),
    )
    ids = instance.pool.ids
    derived = {method: [ids[int(p)] for p in people] for method, people in choice.people.items()}
    stated = (
        record.get("builds_on", {}).get("sha256")
        if isinstance(record.get("builds_on"), dict)
        else None
    )
    digest = record_sha256(previous)
    items = [
        version_item(record),
        item_from(
            "builds on",
            []
            if stated == digest
            else [
                Message(
                    N_("the record states {stated}, the embedded one hashes to {digest}"),
                    stated=stated,
                    digest=digest,
                )
            ],
            Message(
                N_("the {kind} record it embeds hashes to {digest}"),
                kind=kind_name(previous["kind"]),
                digest=digest,
            ),
        ),
        _people_item("alternates", reader.texts(record, "alternates"), derived["optimal"]),
    ]
    baselines = reader.mapping(record, "baselines")
    problems: list[str] = []
    for method in al.METHODS[1:]:
        listed = baselines.get(method)
        if listed != derived[method]:
            gives = _short(derived[method])
            problems.append(
                Message(
                    N_("{method}: the record lists {listed}, the seed gives {gives}"),
                    method=method,
                    listed=_short(listed),
                    gives=gives,
                )
            )
    detail = Message(N_("both baselines' sets re-derived from the seed"))
    items.append(item_from("baselines", problems, detail))
    figures = {method: value.as_record() for method, value in choice.figures.items()}
    stated_figures = reader.mapping(record, "figures")
    differ = [m for m in figures if stated_figures.get(m) != figures[m]]
    differ += [m for m in stated_figures if m not in figures]
    items.append(
        item_from(
            "figures",
            [
                Message(
                    N_("{method}: the record says {stated}, re-run gives {computed}"),
                    method=m,
                    stated=stated_figures.get(m),
                    computed=figures.get(m),
                )
                for m in differ
            ],
            Message(
                N_(
                    "every figure of the comparison re-run on the same fresh scenarios: optimal "
                    "{optimal}, scaled quotas {scaled}, nearest neighbour {nearest}"
                ),
                optimal=f"{figures['optimal']['mean_deviation']:.3f}",
                scaled=f"{figures['scaled quotas']['mean_deviation']:.3f}",
                nearest=f"{figures['nearest neighbour']['mean_deviation']:.3f}",
            ),
        )
    )
    return items


def _short(people: Any) -> str:
    return shortlist([str(p) for p in people]) if isinstance(people, list) else repr(people)


def _people_item(name: str, listed: list[str], derived: list[str]) -> CheckItem:
    if listed == derived:
        detail = Message(N_("{people} people, re-derived from the seed"), people=len(derived))
        return CheckItem(name, True, detail)
    extra = sorted(set(listed) - set(derived))
    missing = sorted(set(derived) - set(listed))
    return CheckItem(
        name,
        False,
        Message(
            N_("the record has {extra} which the re-run does not give; the re-run gives {missing}"),
            extra=_short(extra),
            missing=_short(missing),
        ),
    )
