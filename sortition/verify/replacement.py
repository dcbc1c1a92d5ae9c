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
from sortition.record.canonical import pseudonymised_pool, quota_rows
from sortition.record.reader import RecordReader
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
from sortition.verify.items import CheckItem, VerifyRequest, item_from, shortlist, version_item
from sortition.verify.parts import household_problems, quota_problems
from sortition.verify.selection import verify_selection

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
    items += [_named("selection", item) for item in verify_selection(original)]
    for number in range(1, len(chain)):
        items += round_items(chain[number - 1], chain[number], number, request)
    return items


def _named(prefix: str, item: CheckItem, names: dict[str, str] | None = None) -> CheckItem:
    name = item.name if names is None else names.get(item.name, item.name)
    return CheckItem(f"{prefix}: {name}", item.ok, item.detail)


def round_items(
    previous: dict[str, Any], link: dict[str, Any], number: int, request: VerifyRequest
) -> list[CheckItem]:
    """The checks of one replacement record ``link`` built on ``previous``."""
    name = request.name
    reader = RecordReader(name)
    prefix = f"round {number}"
    items = [_builds_on_item(previous, link, number)]
    state = chain_state(previous, name)
    dropouts = reader.texts(link, "dropouts")
    unavailable = reader.texts(link, "unavailable")
    problems = id_problems(state, dropouts, unavailable)
    for what in ("dropouts", "unavailable"):
        listed = dropouts if what == "dropouts" else unavailable
        items.append(
            item_from(
                what,
                [message for kind, _, message in problems if kind == what],
                f"{len(listed)} listed"
                + (", all on the panel they leave" if what == "dropouts" else ", all in the pool"),
            )
        )
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


def _builds_on_item(previous: dict[str, Any], link: dict[str, Any], number: int) -> CheckItem:
    builds_on = link.get("builds_on")
    stated = builds_on.get("sha256") if isinstance(builds_on, dict) else None
    derived = record_sha256(previous)
    problems = []
    if stated != derived:
        problems.append(f"the record states {stated}, the record it embeds hashes to {derived}")
    if link.get("round") != number:
        problems.append(f"the record says round {link.get('round')!r}, the chain makes it {number}")
    return item_from(
        "builds on",
        problems,
        f"the {previous['kind']} record it embeds hashes to {derived}",
    )


def _candidates_item(
    basis: ReplacementBasis, link: dict[str, Any], reader: RecordReader
) -> CheckItem:
    rows = reader.items(link, "pool")
    if not all(isinstance(row, dict) for row in rows):
        raise reader.fail(f"round {link.get('round')!r}: 'pool' must list objects")
    derived = pseudonymised_pool(basis.instance.pool, basis.instance.quotas)
    stated_ids = [row.get("id") if isinstance(row, dict) else None for row in rows]
    extra = sorted(str(p) for p in set(stated_ids) - set(basis.candidates))
    missing = sorted(set(basis.candidates) - set(stated_ids))
    problems = []
    if extra:
        problems.append(f"the record lists {shortlist(extra)}, who are not candidates")
    if missing:
        problems.append(f"the record leaves out candidates {shortlist(missing)}")
    if not problems and sorted(rows, key=lambda row: str(row.get("id"))) != derived:
        problems.append("the candidates' values or households differ from the original pool's")
    return item_from(
        "candidates",
        problems,
        f"{len(derived)} candidates: the pool minus the panel, the dropouts and unavailable "
        "people of the chain, and the households of the members who stay",
    )


def _derived_quotas_item(
    basis: ReplacementBasis, link: dict[str, Any], reader: RecordReader
) -> CheckItem:
    stated = reader.items(link, "quotas")
    if not all(isinstance(row, dict) for row in stated):
        raise reader.fail(f"round {link.get('round')!r}: 'quotas' must list objects")
    derived = quota_rows(basis.instance.quotas)
    problems = []
    if sorted(stated, key=lambda q: (str(q.get("feature")), str(q.get("value")))) != derived:
        wanted = {(q["feature"], q["value"]): q for q in derived}
        differ = [
            f"{q.get('feature')} {q.get('value')}"
            for q in stated
            if wanted.get((q.get("feature"), q.get("value"))) != q
        ]
        problems.append(
            f"the record's quotas are not the original ones minus the {len(basis.stayers)} "
            f"members who stay (rows that differ: {shortlist(differ) or 'rows missing'})"
        )
    if link.get("k") != basis.instance.k:
        problems.append(f"k is {link.get('k')!r}, the number of dropouts is {basis.instance.k}")
    return item_from(
        "derived quotas",
        problems,
        f"{len(derived)} quota rows, the original ones minus the {len(basis.stayers)} members "
        f"who stay; k = {basis.instance.k}",
    )


def _panel_items(
    basis: ReplacementBasis, link: dict[str, Any], reader: RecordReader
) -> list[CheckItem]:
    panel = reader.texts(link, "panel")
    replacements = reader.texts(link, "replacements")
    expected = basis.final_panel(replacements)
    panel_problems = []
    if panel != expected:
        extra = sorted(set(panel) - set(expected))
        missing = sorted(set(expected) - set(panel))
        panel_problems.append(
            "the recorded panel is not the members who stay plus the replacements"
            + (f": it has {shortlist(extra)}" if extra else "")
            + (f"; it lacks {shortlist(missing)}" if missing else "")
        )
    root = basis.state.root
    pool_rows = {row["id"]: row for row in root["pool"]}
    quota_lines = quota_problems(panel, pool_rows, root["quotas"])
    items = [
        item_from(
            "panel",
            panel_problems,
            f"{len(basis.stayers)} members who stay and {len(replacements)} replacements",
        ),
        item_from(
            "quotas met",
            [f"not met: {line}" for line in quota_lines],
            f"all {len(root['quotas'])} original quotas hold on the new panel",
        ),
    ]
    if basis.state.instance.pool.households is None:
        items.append(CheckItem("household rule", True, "no household rule (no household columns)"))
    else:
        shared = household_problems(panel, pool_rows)
        items.append(
            item_from(
                "household rule",
                [f"shared: {line}" for line in shared],
                "no two members of the new panel share a household",
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
    problems = []
    strangers = [p for p in replacements if p not in position]
    size = pick_size(basis.instance)
    if strangers:
        problems.append(f"not among the alternates left: {shortlist(strangers)}")
    elif len(set(replacements)) != len(replacements) or len(replacements) != size:
        problems.append(f"{len(replacements)} replacements listed, the alternates give {size}")
    else:
        chosen = np.array([position[p] for p in replacements], dtype=np.int64)
        value = deviation(basis.instance.panel_counts(chosen), quotas.mins, quotas.maxs)
        if value != best:
            problems.append(f"the recorded pick deviates by {value}, the best subset by {best}")
        households = basis.instance.pool.households
        if households is not None and len(set(households[chosen].tolist())) < len(chosen):
            problems.append("two replacements share a household")
    stated = link.get("draw", {}).get("deviation") if isinstance(link.get("draw"), dict) else None
    if stated != best:
        problems.append(f"the record states deviation {stated!r}, the best subset gives {best}")
    items.append(
        item_from(
            "best subset",
            problems,
            f"the {size} replacements are a best subset of the {basis.instance.pool.size} "
            f"alternates left: deviation {best} from the derived quotas (re-solved, CP-SAT)",
        )
    )
    named = [_named(prefix, item) for item in items]
    panel_items = _panel_items(basis, link, reader)
    if best > 0:  # the alternates cannot meet every quota: the best they allow is the check
        panel_items = [
            CheckItem(
                item.name,
                True,
                f"{item.detail} (the best the alternates allow: deviation {best})",
            )
            if item.name == "quotas met" and not problems
            else item
            for item in panel_items
        ]
    return named + [_named(prefix, item) for item in panel_items]
