"""Verify a selection record: recompute its digests, re-run its draw, re-check its panel.

``verify_record`` reads ``record.json`` (docs/record.md) and answers, one line per check, whether
the record holds together and whether it matches the input files when they are given:

* the canonical pool and quotas rebuilt from the record give the digests it states, and so do the
  pool and quota files (their raw SHA-256 is compared too, but a file that was only re-saved,
  with the same canonical content, still verifies);
* the seed re-derives the recorded panel (LEGACY re-runs the greedy; the fair algorithms draw a
  panel from the recorded distribution, docs/distribution.md);
* the recorded panel meets every quota and the household rule, counted from the record's own pool;
* for the fair algorithms: the distribution is a distribution of feasible panels, the recorded
  probabilities are the ones it implies, and (``recompute=True``) the algorithm run again gives
  the same probabilities;
* with an M-panel lottery: every published panel is feasible, the largest change of a person's
  probability that the M panels give is the one the record states, and everyone whose probability
  is at least 1/M is on one of them (docs/transparent.md).

A mismatch is a ``CheckItem`` with ``ok`` False, never an exception; only a record or file that
cannot be read or is not valid raises ``InputError`` (exit 2). Each kind of record has its own
checker in ``CHECKERS`` (an invitation record can plug in beside the selection record).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sortition.errors import N_, InfeasibleError, InputError, Message
from sortition.io.pool import parse_pool
from sortition.io.quotas import read_quota_file
from sortition.io.tables import read_table
from sortition.privacy.keys import PseudonymKey
from sortition.record.canonical import (
    file_sha256,
    pool_digest,
    pseudonymised_pool,
    quota_rows,
    quotas_digest,
)
from sortition.record.draw import commitment_sha256, derive_draw
from sortition.record.reader import (
    allow_empty_household,
    pool_columns,
)
from sortition.record.types import publish_types_of
from sortition.verify.distribution import (
    certificate_item,
    lottery_item,
    panels_item,
    probabilities_item,
    recompute_item,
    weights_item,
)
from sortition.verify.diversity import bound_item, drawn_diversity_item
from sortition.verify.items import (
    CheckItem,
    VerifyRequest,
    error_text,
    joined,
    shortlist,
    version_item,
)
from sortition.verify.parts import (
    SelectionParts,
    commitment_item,
    household_problems,
    pseudonym_key_items,
    quota_problems,
    read_parts,
)
from sortition.verify.types import check_types_commitment, verify_types


def check_commitment(document: dict[str, Any], name: str) -> list[CheckItem]:
    """The checks that need only what a commitment fixes (``draw`` runs them before drawing):
    the digests of the embedded pool and quotas, and for the fair algorithms the lottery, the
    weights, the feasibility of every panel and the probabilities they imply.

    A commitment edited and then saved in canonical form hashes to a new value; ``--expect``
    catches that against the published hash, these checks catch content that does not hold
    together (e.g. k changed, two weights swapped)."""
    if publish_types_of(document) is not None:
        return check_types_commitment(document, name)
    selection, fair = read_parts(document, name, with_draw=False)
    items = _digest_items(selection)
    if fair is not None:
        if "lottery" in document:
            items.append(lottery_item(selection, fair))
        items += [
            weights_item(fair),
            panels_item(selection, fair),
            probabilities_item(selection, fair),
        ]
        certificate = certificate_item(selection, fair)
        if certificate is not None:
            items.append(certificate)
        bound = bound_item(selection, fair)
        if bound is not None:
            items.append(bound)
    return items


def verify_selection(request: VerifyRequest) -> list[CheckItem]:
    record = request.record
    if publish_types_of(record) is not None:
        return verify_types(request)
    selection, fair = read_parts(record, request.name, with_draw=True)

    items = [version_item(record), commitment_item(selection.record)]
    if request.expect is not None:
        items.append(_published_item(selection, request.expect))
    items += _digest_items(selection)
    items += pseudonym_key_items(
        selection.record, selection.name, request.pseudonym_key, request.pool_path
    )
    if request.pool_path is not None:
        items.append(
            _pool_file_item(selection, request.pool_path, request.id_column, request.pseudonym_key)
        )
    if request.quotas_path is not None:
        items.append(_quotas_file_item(selection, request.quotas_path, request.warnings))
    items += [_panel_size_item(selection), _quotas_item(selection), _household_item(selection)]
    if fair is None:
        items.append(_draw_item(selection))
        if request.recompute:
            items.append(
                CheckItem(
                    "recompute",
                    True,
                    Message(
                        N_(
                            "LEGACY has no distribution to recompute: the draw re-run above is "
                            "its recomputation"
                        )
                    ),
                )
            )
    else:
        items += [
            _draw_item(selection),
            *([lottery_item(selection, fair)] if "lottery" in record else []),
            weights_item(fair),
            panels_item(selection, fair),
            probabilities_item(selection, fair),
        ]
        certificate = certificate_item(selection, fair)
        if certificate is not None:
            items.append(certificate)
        if selection.algorithm == "diversimax":
            items.append(drawn_diversity_item(selection, fair))
        bound = bound_item(selection, fair)
        if bound is not None:
            items.append(bound)
        if request.recompute:
            items.append(recompute_item(selection, fair))
    return items


def _digest_items(selection: SelectionParts) -> list[CheckItem]:
    record, instance = selection.record, selection.instance
    pool, quotas = instance.pool, instance.quotas
    items = []
    stated = record["inputs"]["pool"]["digest"]
    rebuilt = pool_digest(pool, quotas)
    people = record["inputs"]["pool"].get("people")
    if rebuilt != stated:
        items.append(
            CheckItem(
                "pool digest",
                False,
                Message(
                    N_("record says {stated}, its embedded pool gives {rebuilt}"),
                    stated=stated,
                    rebuilt=rebuilt,
                ),
            )
        )
    elif people is not None and people != pool.size:
        items.append(
            CheckItem(
                "pool digest",
                False,
                Message(
                    N_(
                        "matches {stated}, but the record says {people} people and its pool "
                        "has {size}"
                    ),
                    stated=stated,
                    people=people,
                    size=pool.size,
                ),
            )
        )
    else:
        detail: str = Message(N_("matches {stated}, {size} people"), stated=stated, size=pool.size)
        if pseudonymised_pool(pool, quotas) != record["pool"]:
            detail = _not_canonical(detail)
        items.append(CheckItem("pool digest", True, detail))
    stated = record["inputs"]["quotas"]["digest"]
    rebuilt = quotas_digest(quotas)
    if rebuilt != stated:
        items.append(
            CheckItem(
                "quotas digest",
                False,
                Message(
                    N_("record says {stated}, its embedded quotas give {rebuilt}"),
                    stated=stated,
                    rebuilt=rebuilt,
                ),
            )
        )
    else:
        detail = Message(
            N_("matches {stated}, {rows} quota rows"), stated=stated, rows=len(quotas.rows)
        )
        if quota_rows(quotas) != record["quotas"]:
            detail = _not_canonical(detail)
        items.append(CheckItem("quotas digest", True, detail))
    return items


def _not_canonical(detail: str) -> str:
    return Message(
        N_("{detail} (the embedded rows are not in canonical order; their content matches)"),
        detail=detail,
    )


def _raw_file(path: Path, raw_stated: Any) -> tuple[bool, str]:
    """Raw SHA-256 comparison: (matches, words for the detail line)."""
    raw = file_sha256(path)
    if raw == raw_stated:
        return True, Message(N_("file SHA-256 matches {raw}"), raw=raw)
    recorded = raw_stated if isinstance(raw_stated, str) else Message(N_("nothing"))
    return False, Message(
        N_("raw file SHA-256 {raw} differs from the record's {recorded}"),
        raw=raw,
        recorded=recorded,
    )


def _file_matches(name: str, stated: str, raw_ok: bool, raw_words: str) -> str:
    """The detail of a pool or quota file whose canonical digest matches the record's."""
    if raw_ok:
        return Message(
            N_("{file}: canonical digest matches {stated}; {raw}"),
            file=name,
            stated=stated,
            raw=raw_words,
        )
    return Message(
        N_(
            "{file}: canonical digest matches {stated}; note: {raw} "
            "(re-saved? the content that counts is the same)"
        ),
        file=name,
        stated=stated,
        raw=raw_words,
    )


def _pool_file_item(
    selection: SelectionParts,
    path: Path,
    id_column: str | None,
    key: PseudonymKey | None = None,
) -> CheckItem:
    record, quotas = selection.record, selection.instance.quotas
    stated_pool = record["inputs"]["pool"]
    column, households = pool_columns(record, selection.name)
    if id_column is not None:
        column = id_column
    table = read_table(path)  # an unreadable file is InputError
    try:
        pool_file = parse_pool(
            table,
            quotas,
            column,
            households,
            allow_empty_household(record, selection.name),
            key,
        )
    except InputError as error:
        first = error.problems[0]
        more = len(error.problems) - 1
        return CheckItem(
            "pool file",
            False,
            Message(
                N_("{file} does not fit the record's quotas and columns: {problem}")
                if not more
                else N_(
                    "{file} does not fit the record's quotas and columns: {problem} "
                    "(and {more} more problems)"
                ),
                file=path.name,
                problem=first,
                **({"more": more} if more else {}),
            ),
        )
    stated = stated_pool["digest"]
    digest = pool_digest(pool_file.pool, quotas)
    raw_ok, raw_words = _raw_file(path, stated_pool.get("file_sha256"))
    if digest != stated:
        return CheckItem(
            "pool file",
            False,
            Message(
                N_("record says {stated}, {file} gives {digest} ({size} people)"),
                stated=stated,
                file=path.name,
                digest=digest,
                size=pool_file.pool.size,
            ),
        )
    return CheckItem("pool file", True, _file_matches(path.name, stated, raw_ok, raw_words))


def _quotas_file_item(selection: SelectionParts, path: Path, warnings: list[str]) -> CheckItem:
    stated_quotas = selection.record["inputs"]["quotas"]
    quota_file = read_quota_file(path)  # an unreadable or invalid file is InputError
    warnings.extend(quota_file.warnings)
    quotas = quota_file.quotas
    stated = stated_quotas["digest"]
    digest = quotas_digest(quotas)
    raw_ok, raw_words = _raw_file(path, stated_quotas.get("file_sha256"))
    if digest != stated:
        mine = {(q.feature, q.value): q for q in selection.instance.quotas.rows}
        theirs = {(q.feature, q.value): q for q in quotas.rows}
        changed = [
            f"{f} {v}"
            for (f, v) in sorted(set(mine) | set(theirs))
            if mine.get((f, v)) != theirs.get((f, v))
        ]
        return CheckItem(
            "quotas file",
            False,
            Message(
                N_("record says {stated}, {file} gives {digest} (rows that differ: {rows})"),
                stated=stated,
                file=path.name,
                digest=digest,
                rows=shortlist(changed),
            ),
        )
    return CheckItem("quotas file", True, _file_matches(path.name, stated, raw_ok, raw_words))


def _panel_size_item(selection: SelectionParts) -> CheckItem:
    panel, k = selection.panel, selection.instance.k
    unknown = [p for p in panel if p not in selection.pool_rows]
    repeated = [p for p, count in Counter(panel).items() if count > 1]
    problems: list[str] = []
    if len(panel) != k:
        problems.append(Message(N_("the panel has {ids} ids where k is {k}"), ids=len(panel), k=k))
    if repeated:
        problems.append(Message(N_("ids listed twice: {ids}"), ids=shortlist(repeated)))
    if unknown:
        problems.append(Message(N_("ids not in the pool: {ids}"), ids=shortlist(unknown)))
    if problems:
        return CheckItem("panel size", False, joined(problems, "; "))
    return CheckItem(
        "panel size",
        True,
        Message(N_("{k} distinct people of the pool's {size}"), k=k, size=len(selection.pool_rows)),
    )


def _quotas_item(selection: SelectionParts) -> CheckItem:
    problems = quota_problems(selection.panel, selection.pool_rows, selection.quota_rows)
    if problems:
        return CheckItem(
            "quotas met", False, Message(N_("not met: {quotas}"), quotas=shortlist(problems))
        )
    return CheckItem(
        "quotas met",
        True,
        Message(
            N_("all {quotas} quotas hold on the recorded panel (counted from the record's pool)"),
            quotas=len(selection.quota_rows),
        ),
    )


def _household_item(selection: SelectionParts) -> CheckItem:
    if selection.instance.pool.households is None:
        return CheckItem(
            "household rule", True, Message(N_("no household rule (no household columns)"))
        )
    problems = household_problems(selection.panel, selection.pool_rows)
    if problems:
        return CheckItem(
            "household rule",
            False,
            Message(N_("shared households: {households}"), households=shortlist(problems)),
        )
    if allow_empty_household(selection.record, selection.name):
        detail = Message(
            N_(
                "no two panel members share a household (empty household cells were allowed: "
                "each person with one is a household of their own)"
            )
        )
    else:
        detail = Message(N_("no two panel members share a household"))
    return CheckItem("household rule", True, detail)


def _panel_difference(recorded: list[str], derived: list[str]) -> str:
    extra = sorted(set(recorded) - set(derived))
    missing = sorted(set(derived) - set(recorded))
    if not extra and not missing:
        return Message(N_("the same people, listed in another order or with repeats"))
    parts: list[str] = []
    if extra:
        parts.append(
            Message(N_("the record has {ids} which the seed does not give"), ids=shortlist(extra))
        )
    if missing:
        parts.append(
            Message(N_("the seed gives {ids} which the record lacks"), ids=shortlist(missing))
        )
    return joined(parts, "; ")


def _draw_item(selection: SelectionParts) -> CheckItem:
    """Re-derive the draw from the record's committed data and its seed (sortition.record.draw)."""
    seed = selection.seed
    try:
        draw = derive_draw(selection.record, seed, selection.name)
    except InfeasibleError:
        return CheckItem(
            "draw",
            False,
            Message(
                N_("seed {seed}: LEGACY reaches a dead end every time it is allowed"),
                seed=repr(seed),
            ),
        )
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
    templates = {
        "legacy": N_("re-runs LEGACY ({attempts} attempt(s))"),
        "distribution": N_("draws panel {number} of {of} of the distribution"),
        "lottery": N_("draws lottery panel {number} of {of}"),
        "lottery-dice": N_("reads as lottery panel {number} of {of}"),
    }
    what = Message(
        templates[draw.method],
        **(
            {"attempts": draw.attempts}
            if draw.method == "legacy"
            else {"number": draw.panel_number, "of": draw.of}
        ),
    )
    if draw.panel != selection.panel:
        return CheckItem(
            "draw",
            False,
            Message(
                N_("seed {seed} {what}, which is another panel: {difference}"),
                seed=repr(seed),
                what=what,
                difference=_panel_difference(selection.panel, draw.panel),
            ),
        )
    stated = selection.record.get("draw")
    if stated != draw.as_record():
        return CheckItem(
            "draw",
            False,
            Message(
                N_("seed {seed} {what}, the recorded panel, but the record's draw says {stated}"),
                seed=repr(seed),
                what=what,
                stated=stated,
            ),
        )
    return CheckItem(
        "draw",
        True,
        Message(N_("seed {seed} {what}: the recorded panel"), seed=repr(seed), what=what),
    )


def _published_item(selection: SelectionParts, expected: str) -> CheckItem:
    """The commitment digest the organiser published before the seed existed (that the record
    states the digest of its own committed part is the ``commitment`` item)."""
    derived = commitment_sha256(selection.record)
    matches = derived == expected
    detail = (
        Message(N_("matches the published {expected}"), expected=expected)
        if matches
        else Message(
            N_("the record's committed part hashes to {derived}, not to the published {expected}"),
            derived=derived,
            expected=expected,
        )
    )
    return CheckItem("published commitment", matches, detail)
