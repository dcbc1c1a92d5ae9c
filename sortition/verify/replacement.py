"""Verify a replacement record: the whole chain back to the original draw, from that one file.

The original selection record (embedded at the end of the chain) gets every check of a selection
record, named ``selection: ...`` (``--pool``, ``--quotas``, ``--expect`` and ``--pseudonym-key``
apply to it: with the organiser's key, ``selection: pseudonym key`` checks its fingerprint and the
pool file is read with it). Then each
round n of replacements, named ``round n: ...``:

* ``builds on``: the record it builds on, embedded, has the SHA-256 it states;
* ``dropouts``, ``unavailable``: the dropouts were on the panel, the unavailable people in the
  pool and not on it (sortition.record.replacement);
* ``candidates``, ``derived quotas``: the embedded candidates and quotas are the ones the chain
  and the dropouts imply;
* the replacement draw, checked as a selection is: its digests and commitment, the draw
  re-derived from the seed, the replacements meeting the derived quotas and the household rule,
  and for the fair algorithms the distribution and probabilities (``--recompute`` re-runs it);
* ``panel``, ``quotas met``, ``household rule``: the new panel is the members who stay plus the
  replacements, and meets the original quotas and the household rule (counted from the original
  record's pool).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sortition.engine.subset import deviation
from sortition.errors import N_, Message
from sortition.record.canonical import pseudonymised_pool, quota_rows
from sortition.record.reader import RecordReader, kind_name
from sortition.record.replacement import (
    ChainState,
    ReplacementBasis,
    alternates_pick,
    chain_of,
    chain_state,
    id_problems,
    pick_size,
    record_sha256,
    replacement_basis,
)
from sortition.verify.items import (
    CheckItem,
    VerifyRequest,
    item_from,
    shortlist,
    version_item,
)
from sortition.verify.parts import household_problems, quota_problems
from sortition.verify.selection import check_commitment, verify_selection

# The names a selection's checks take when they check a replacement draw.
_DRAW_NAMES = {
    "pool digest": "candidates digest",
    "quotas digest": "derived quotas digest",
    "panel size": "replacements",
    "quotas met": "derived quotas met",
    "household rule": "replacements' households",
}


def verify_replacement(request: VerifyRequest) -> list[CheckItem]:
    record, name = request.record, request.name
    chain = chain_of(record, name)
    original = VerifyRequest(
        chain[0],
        name,
        request.pool_path,
        request.quotas_path,
        request.recompute,
        request.id_column,
        expect=request.expect,
        pseudonym_key=request.pseudonym_key,
        warnings=request.warnings,
    )
    items = [version_item(record)]
    items += [_named(N_("selection"), item) for item in verify_selection(original)]
    for number in range(1, len(chain)):
        items += round_items(chain[number - 1], chain[number], number, request)
    return items


def _named(prefix: str, item: CheckItem, names: dict[str, str] | None = None) -> CheckItem:
    """``item`` named ``prefix: name`` (a ``Message``: its English is that text, and each part is
    translated on its own)."""
    name = item.name if names is None else names.get(item.name, item.name)
    part = name if isinstance(name, Message) else Message(name)
    whole = prefix if isinstance(prefix, Message) else Message(prefix)
    return CheckItem(Message(N_("{prefix}: {name}"), prefix=whole, name=part), item.ok, item.detail)


def round_items(
    previous: dict[str, Any], link: dict[str, Any], number: int, request: VerifyRequest
) -> list[CheckItem]:
    """The checks of one replacement record ``link`` built on ``previous``."""
    name = request.name
    reader = RecordReader(name)
    prefix = Message(N_("round {number}"), number=number)
    items = [_builds_on_item(previous, link, number)]
    state = chain_state(previous, name)
    dropouts = reader.texts(link, "dropouts")
    unavailable = reader.texts(link, "unavailable")
    problems = id_problems(state, dropouts, unavailable)
    items += _id_items(dropouts, unavailable, problems)
    if problems:
        return [_named(prefix, item) for item in items]
    if link.get("algorithm") == "alternates":
        return _alternates_round(state, link, dropouts, unavailable, reader, prefix, items)
    basis = replacement_basis(state, dropouts, unavailable)
    items += [_candidates_item(basis, link, reader), _derived_quotas_item(basis, link, reader)]
    draw = VerifyRequest(
        {**link, "panel": reader.texts(link, "replacements")},
        name,
        None,
        None,
        request.recompute,
        None,
    )
    drawn = [item for item in verify_selection(draw) if item.name != "record version"]
    items = [_named(prefix, item) for item in items]
    items += [_named(prefix, item, _DRAW_NAMES) for item in drawn]
    items += [_named(prefix, item) for item in _panel_items(basis, link, reader)]
    return items


def check_replacement_commitment(document: dict[str, Any], name: str) -> list[CheckItem]:
    """The checks of a replacement draw's commitment (``replace --commit-only``) that ``draw``
    runs before drawing: the record it embeds hashes to the SHA-256 it states and gives its
    round, the dropouts and unavailable people can be used for that round, the candidates and
    derived quotas are the ones they imply, and the draw's own content holds together
    (``check_commitment``)."""
    reader = RecordReader(name)
    previous = reader.mapping(document, "previous")
    state = chain_state(previous, name)
    items = [_builds_on_item(previous, document, state.round)]
    dropouts = reader.texts(document, "dropouts")
    unavailable = reader.texts(document, "unavailable")
    problems = id_problems(state, dropouts, unavailable)
    items += _id_items(dropouts, unavailable, problems)
    if problems:
        return items
    basis = replacement_basis(state, dropouts, unavailable)
    items += [
        _candidates_item(basis, document, reader),
        _derived_quotas_item(basis, document, reader),
    ]
    drawn = check_commitment(document, name)
    return items + [
        CheckItem(_DRAW_NAMES.get(str(item.name), item.name), item.ok, item.detail)
        if isinstance(item.name, str)
        else item
        for item in drawn
    ]


def _id_items(
    dropouts: list[str], unavailable: list[str], problems: list[tuple[str, int | None, Message]]
) -> list[CheckItem]:
    """The ``dropouts`` and ``unavailable`` items: ``id_problems``'s findings for each list."""
    items = []
    for what in ("dropouts", "unavailable"):
        listed = dropouts if what == "dropouts" else unavailable
        items.append(
            item_from(
                what,
                [message for kind, _, message in problems if kind == what],
                Message(N_("{count} listed, all on the panel they leave"), count=len(listed))
                if what == "dropouts"
                else Message(N_("{count} listed, all in the pool"), count=len(listed)),
            )
        )
    return items


def _builds_on_item(previous: dict[str, Any], link: dict[str, Any], number: int) -> CheckItem:
    builds_on = link.get("builds_on")
    stated = builds_on.get("sha256") if isinstance(builds_on, dict) else None
    derived = record_sha256(previous)
    problems = []
    if stated != derived:
        problems.append(
            Message(
                N_("the record states {stated}, the record it embeds hashes to {derived}"),
                stated=stated,
                derived=derived,
            )
        )
    if link.get("round") != number:
        problems.append(
            Message(
                N_("the record says round {stated}, the chain makes it {number}"),
                stated=repr(link.get("round")),
                number=number,
            )
        )
    return item_from(
        "builds on",
        problems,
        Message(
            N_("the {kind} record it embeds hashes to {derived}"),
            kind=kind_name(previous["kind"]),
            derived=derived,
        ),
    )


def _candidates_item(
    basis: ReplacementBasis, link: dict[str, Any], reader: RecordReader
) -> CheckItem:
    rows = reader.items(link, "pool")
    if not all(isinstance(row, dict) for row in rows):
        raise reader.fail(
            Message(N_("round {round}: 'pool' must list objects"), round=repr(link.get("round")))
        )
    derived = pseudonymised_pool(basis.instance.pool, basis.instance.quotas)
    stated_ids = [row.get("id") if isinstance(row, dict) else None for row in rows]
    extra = sorted(str(p) for p in set(stated_ids) - set(basis.candidates))
    missing = sorted(set(basis.candidates) - set(stated_ids))
    problems: list[str] = []
    if extra:
        problems.append(
            Message(N_("the record lists {ids}, who are not candidates"), ids=shortlist(extra))
        )
    if missing:
        problems.append(
            Message(N_("the record leaves out candidates {ids}"), ids=shortlist(missing))
        )
    if not problems and sorted(rows, key=lambda row: str(row.get("id"))) != derived:
        problems.append(
            Message(N_("the candidates' values or households differ from the original pool's"))
        )
    return item_from(
        "candidates",
        problems,
        Message(
            N_(
                "{count} candidates: the pool minus the panel, the dropouts and unavailable "
                "people of the chain, and the households of the members who stay"
            ),
            count=len(derived),
        ),
    )


def _derived_quotas_item(
    basis: ReplacementBasis, link: dict[str, Any], reader: RecordReader
) -> CheckItem:
    stated = reader.items(link, "quotas")
    if not all(isinstance(row, dict) for row in stated):
        raise reader.fail(
            Message(N_("round {round}: 'quotas' must list objects"), round=repr(link.get("round")))
        )
    derived = quota_rows(basis.instance.quotas)
    problems: list[str] = []
    if sorted(stated, key=lambda q: (str(q.get("feature")), str(q.get("value")))) != derived:
        wanted = {(q["feature"], q["value"]): q for q in derived}
        differ = [
            f"{q.get('feature')} {q.get('value')}"
            for q in stated
            if wanted.get((q.get("feature"), q.get("value"))) != q
        ]
        problems.append(
            Message(
                N_(
                    "the record's quotas are not the original ones minus the {stayers} "
                    "members who stay (rows that differ: {rows})"
                ),
                stayers=len(basis.stayers),
                rows=shortlist(differ) or Message(N_("rows missing")),
            )
        )
    if link.get("k") != basis.instance.k:
        problems.append(
            Message(
                N_("k is {stated}, the number of dropouts is {k}"),
                stated=repr(link.get("k")),
                k=basis.instance.k,
            )
        )
    return item_from(
        "derived quotas",
        problems,
        Message(
            N_(
                "{count} quota rows, the original ones minus the {stayers} members "
                "who stay; k = {k}"
            ),
            count=len(derived),
            stayers=len(basis.stayers),
            k=basis.instance.k,
        ),
    )


def _panel_items(
    basis: ReplacementBasis, link: dict[str, Any], reader: RecordReader
) -> list[CheckItem]:
    panel = reader.texts(link, "panel")
    replacements = reader.texts(link, "replacements")
    expected = basis.final_panel(replacements)
    panel_problems: list[str] = []
    if panel != expected:
        extra = sorted(set(panel) - set(expected))
        missing = sorted(set(expected) - set(panel))
        wrong = Message(N_("the recorded panel is not the members who stay plus the replacements"))
        if extra:
            wrong = Message(N_("{wrong}: it has {ids}"), wrong=wrong, ids=shortlist(extra))
        if missing:
            wrong = Message(N_("{wrong}; it lacks {ids}"), wrong=wrong, ids=shortlist(missing))
        panel_problems.append(wrong)
    root = basis.state.root
    pool_rows = {row["id"]: row for row in root["pool"]}
    quota_lines = quota_problems(panel, pool_rows, root["quotas"])
    items = [
        item_from(
            "panel",
            panel_problems,
            Message(
                N_("{stayers} members who stay and {replacements} replacements"),
                stayers=len(basis.stayers),
                replacements=len(replacements),
            ),
        ),
        item_from(
            "quotas met",
            [Message(N_("not met: {line}"), line=line) for line in quota_lines],
            Message(
                N_("all {count} original quotas hold on the new panel"), count=len(root["quotas"])
            ),
        ),
    ]
    if basis.state.instance.pool.households is None:
        items.append(
            CheckItem(
                "household rule", True, Message(N_("no household rule (no household columns)"))
            )
        )
    else:
        shared = household_problems(panel, pool_rows)
        items.append(
            item_from(
                "household rule",
                [Message(N_("shared: {line}"), line=line) for line in shared],
                Message(N_("no two members of the new panel share a household")),
            )
        )
    return items


def _alternates_round(
    state: ChainState,
    link: dict[str, Any],
    dropouts: list[str],
    unavailable: list[str],
    reader: RecordReader,
    prefix: str,
    items: list[CheckItem],
) -> list[CheckItem]:
    """A round whose replacements are the best subset of the alternates (``replace
    --from-alternates``): the candidates are the alternates left, and the pick is re-solved."""
    alternates = reader.texts(link, "parameters.alternates")
    basis = replacement_basis(state, dropouts, unavailable, alternates)
    items += [_candidates_item(basis, link, reader), _derived_quotas_item(basis, link, reader)]
    replacements = reader.texts(link, "replacements")
    best, _ = alternates_pick(basis.instance)
    quotas = basis.instance.quotas
    position = {person: i for i, person in enumerate(basis.candidates)}
    problems: list[str] = []
    strangers = [p for p in replacements if p not in position]
    size = pick_size(basis.instance)
    if strangers:
        problems.append(
            Message(N_("not among the alternates left: {ids}"), ids=shortlist(strangers))
        )
    elif len(set(replacements)) != len(replacements) or len(replacements) != size:
        problems.append(
            Message(
                N_("{count} replacements listed, the alternates give {size}"),
                count=len(replacements),
                size=size,
            )
        )
    else:
        chosen = np.array([position[p] for p in replacements], dtype=np.int64)
        value = deviation(basis.instance.panel_counts(chosen), quotas.mins, quotas.maxs)
        if value != best:
            problems.append(
                Message(
                    N_("the recorded pick deviates by {value}, the best subset by {best}"),
                    value=value,
                    best=best,
                )
            )
        households = basis.instance.pool.households
        if households is not None and len(set(households[chosen].tolist())) < len(chosen):
            problems.append(Message(N_("two replacements share a household")))
    stated = link.get("draw", {}).get("deviation") if isinstance(link.get("draw"), dict) else None
    if stated != best:
        problems.append(
            Message(
                N_("the record states deviation {stated}, the best subset gives {best}"),
                stated=repr(stated),
                best=best,
            )
        )
    items.append(
        item_from(
            "best subset",
            problems,
            Message(
                N_(
                    "the {size} replacements are a best subset of the {alternates} "
                    "alternates left: deviation {best} from the derived quotas (re-solved, CP-SAT)"
                ),
                size=size,
                alternates=basis.instance.pool.size,
                best=best,
            ),
        )
    )
    named = [_named(prefix, item) for item in items]
    panel_items = _panel_items(basis, link, reader)
    if best > 0:  # the alternates cannot meet every quota: the best they allow is the check
        panel_items = [
            CheckItem(
                item.name,
                True,
                Message(
                    N_("{detail} (the best the alternates allow: deviation {best})"),
                    detail=item.detail,
                    best=best,
                ),
            )
            if item.name == "quotas met" and not problems
            else item
            for item in panel_items
        ]
    return named + [_named(prefix, item) for item in panel_items]
