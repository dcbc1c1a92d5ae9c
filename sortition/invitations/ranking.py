"""Stage 1: the invitation lottery — letters drawn from a registry by rank (docs/invitations.md).

The rank of a key is SHA-256(UTF-8(seed) ‖ 0x00 ‖ UTF-8(key)) read as a big-endian integer; the
key is a registry id, or for a household its household key (``sortition.households``: the cells
normalised, joined by the byte 0x1F); with ``--allow-empty-household`` a person with an empty
household cell is a household of their own, keyed 0x1F followed by their id (no household key
starts with 0x1F, and ids are unique, so such a key is never shared).
Within each stratum the households with the smallest ranks get the letters; a household's letter
goes to its member whose id has the smallest rank. Nothing depends on the order of the file, so
the work splits into chunks (or Dask partitions) that are hashed independently:

1. ``hash_chunk`` turns a batch of rows into compact numbers: per row the first 128 bits of the
   id's rank, of its household's rank, and its stratum;
2. ``plan_invitations`` (the reduction) checks ids and households, counts households per
   stratum, allocates the letters (``sortition.invitations.allocation``) and picks the smallest
   ranks;
3. the chosen rows are read again and their full 256-bit ranks recomputed (``finish``).

Ranks are compared by their first 128 bits; two different keys agree on those with probability
about n²/2¹²⁹ (10⁻²⁴ for ten million keys), so in practice this is the full order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sortition.errors import N_, InputError, Problem, problem
from sortition.households import EMPTY_HOUSEHOLD_CELL, SEPARATOR, household_key, normalise_arrow
from sortition.invitations.allocation import METHOD, StratumAllocation, allocate
from sortition.invitations.registry import RegistryColumns
from sortition.record.build import SeedLike, tool_versions

RECORD_KIND = "invitation"
# 2: households are ranked by their normalised key (version 1 joined the cells as written)
# 3: inputs.registry.pseudonyms (the invitations' ids may be keyed pseudonyms, docs/privacy.md)
RECORD_VERSION = 3
ALL = "all"  # the one stratum of an unstratified lottery
RANK_RULE = (
    "SHA-256(UTF-8(seed) || 0x00 || UTF-8(key)) as a big-endian integer, smallest first; key: "
    "the id, or the household key: each household cell after NFKC, case folding, NFKC and "
    "whitespace runs to one space (none at the ends), joined by 0x1F; a person with an empty "
    "household cell (when allowed): 0x1F followed by the id"
)
MAX_PROBLEMS = 20

FetchRows = Callable[[Sequence[int]], dict[int, dict[str, str]]]


def rank_digest(seed: str, key: str) -> bytes:
    """The 32 bytes whose big-endian value is the rank of ``key`` under ``seed``."""
    return hashlib.sha256(seed.encode("utf-8") + b"\x00" + key.encode("utf-8")).digest()


def rank(seed: str, key: str) -> int:
    return int.from_bytes(rank_digest(seed, key), "big")


def household_rank_key(cells: Sequence[str], person: str) -> str:
    """The key a household is ranked by: its household key, or, for a person with an empty
    household cell (when allowed), 0x1F followed by their id."""
    key = household_key(cells)
    return SEPARATOR + person if key is None else key


def _words(prefix: bytes, keys: list[bytes]) -> np.ndarray:
    """The first two 64-bit big-endian words of each key's rank digest, shape (n, 2)."""
    sha = hashlib.sha256
    joined = b"".join([sha(prefix + key).digest() for key in keys])
    return np.frombuffer(joined, dtype=">u8").reshape(-1, 4)[:, :2].astype(np.uint64)


@dataclass
class ChunkHashes:
    """One chunk's rows as numbers: what the reduction needs, and nothing that names anyone."""

    rows: int
    strata: list[str]  # this chunk's stratum values; ``codes`` index into it
    codes: np.ndarray  # int32 per row
    ranks: np.ndarray  # uint64 (rows, 2): first 128 bits of the rank of each row's household
    # (or, without households, of its id)
    id_hashes: np.ndarray  # uint64 per row: a fast 64-bit hash of the id, to find repeated ids
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (row in chunk, col, msg)
    more_problems: int = 0  # problems found beyond the MAX_PROBLEMS listed


def _trimmed(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return pc.utf8_trim_whitespace(array)


def _binary(array: pa.Array) -> list[bytes]:
    return array.cast(pa.binary()).to_pylist()  # type: ignore[no-any-return]


def hash_chunk(table: pa.Table, columns: RegistryColumns, seed: str) -> ChunkHashes:
    """Hash one batch of rows (text columns, as ``sortition.invitations.registry`` reads them)."""
    prefix = seed.encode("utf-8") + b"\x00"
    rows = table.num_rows
    problems: list[tuple[int, str, str]] = []
    more = 0
    ids = _trimmed(table, columns.id)
    no_id = np.flatnonzero(pc.equal(ids, "").to_numpy(zero_copy_only=False))
    for index in no_id[:MAX_PROBLEMS]:
        problems.append((int(index), columns.id, N_("the id is empty")))
    more += max(0, len(no_id) - MAX_PROBLEMS)
    id_hashes = pd.util.hash_array(ids.to_numpy(zero_copy_only=False), categorize=False)
    if not columns.households:
        ranks = _words(prefix, _binary(ids))
    else:
        cells = [normalise_arrow(table.column(name)) for name in columns.households]
        empties = [pc.equal(cell, "").to_numpy(zero_copy_only=False) for cell in cells]
        alone = np.logical_or.reduce(empties)
        if not columns.allow_empty_household and alone.any():
            listed = [
                (int(index), name, EMPTY_HOUSEHOLD_CELL)
                for index in np.flatnonzero(alone)[:MAX_PROBLEMS]
                for name, empty in zip(columns.households, empties, strict=True)
                if empty[index]
            ][:MAX_PROBLEMS]
            problems += listed
            more += int(sum(empty.sum() for empty in empties)) - len(listed)
        keys = cells[0] if len(cells) == 1 else pc.binary_join_element_wise(*cells, SEPARATOR)
        if columns.allow_empty_household and alone.any():
            keys = pc.if_else(pa.array(alone), pc.utf8_replace_slice(ids, 0, 0, SEPARATOR), keys)
        # one hash per run of equal keys: members listed together (a file sorted by address)
        # are hashed once; a full de-duplication costs more than it saves on shuffled files
        new = np.ones(rows, dtype=bool)
        if rows > 1:
            same = pc.equal(keys.slice(1), keys.slice(0, rows - 1))
            new[1:] = ~same.to_numpy(zero_copy_only=False)
        runs = _words(prefix, _binary(keys.take(pa.array(np.flatnonzero(new)))))
        ranks = runs[np.cumsum(new) - 1]
    if columns.stratum is not None:
        encoded = _trimmed(table, columns.stratum).dictionary_encode()
        strata = [str(v) for v in encoded.dictionary.to_pylist()]
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    else:
        strata, codes = [ALL], np.zeros(rows, dtype=np.int32)
    return ChunkHashes(rows, strata, codes, ranks, id_hashes, problems, more)


# ---------------------------------------------------------------------------------------------
# The reduction


@dataclass(frozen=True)
class Invitation:
    stratum: str
    members: tuple[int, ...]  # 0-based record indices of the household's rows (or the person's)
    rank_words: tuple[int, int]  # first 128 bits of the household's (or id's) rank


@dataclass(frozen=True)
class InvitationPlan:
    rows: int
    households: int
    allocation: list[StratumAllocation]
    invitations: list[Invitation]  # by stratum, then rank


def _order(w: np.ndarray) -> np.ndarray:
    """Row order by the 128-bit numbers ``w`` (n, 2): a fast sort on the first word, and an exact
    two-word sort in the rare case that different numbers share it."""
    order = np.argsort(w[:, 0], kind="stable")
    first, second = w[order, 0], w[order, 1]
    if np.any((first[1:] == first[:-1]) & (second[1:] != second[:-1])):
        order = np.lexsort((w[:, 1], w[:, 0]))
    return order


def _starts(sorted_w: np.ndarray) -> np.ndarray:
    """Mask of positions where a new value begins in sorted (n, 2) numbers."""
    starts = np.ones(len(sorted_w), dtype=bool)
    if len(sorted_w) > 1:
        starts[1:] = np.any(sorted_w[1:] != sorted_w[:-1], axis=1)
    return starts


def _row_problem(name: str, position: int, column: str, message: str) -> Problem:
    """A chunk's problem (a template marked ``N_``, without placeholders) at its place."""
    return problem(message, file=name, row=position + 2, column=column)


def _count_rows(chunks: list[ChunkHashes], registry_name: str) -> int:
    """The registry's rows; InputError with the problems the chunks found in them (the first
    ``MAX_PROBLEMS``, then how many more), or when it has none."""
    problems: list[Problem] = []
    more = 0
    offset = 0
    for chunk in chunks:
        for index, column, message in chunk.problems:
            problems.append(_row_problem(registry_name, offset + index, column, message))
        more += chunk.more_problems
        offset += chunk.rows
    if problems:
        more += max(0, len(problems) - MAX_PROBLEMS)
        shown = problems[:MAX_PROBLEMS]
        if more:
            shown.append(problem(N_("... and {count} more problems"), count=more))
        raise InputError(shown)
    if offset == 0:
        raise InputError([problem(N_("has no rows"), file=registry_name)])
    return offset


def plan_invitations(
    chunks: Iterable[ChunkHashes],
    columns: RegistryColumns,
    letters: int,
    weights: Mapping[str, Fraction],
    registry_name: str,
    fetch: FetchRows,
) -> InvitationPlan:
    """The reduction: check, count, allocate and choose. ``fetch`` reads rows back (by 0-based
    position) when a message must name an id."""
    chunks = list(chunks)
    rows = _count_rows(chunks, registry_name)
    strata = sorted({s for chunk in chunks for s in chunk.strata})
    index_of = {s: i for i, s in enumerate(strata)}
    codes = np.concatenate(
        [np.array([index_of[s] for s in c.strata], dtype=np.int32)[c.codes] for c in chunks]
    )
    unknown = sorted(set(weights) - set(strata))
    if unknown:
        raise InputError(
            [
                problem(
                    N_(
                        "a weight is given for stratum {stratum}, which no row of the registry "
                        "has in column '{name}'"
                    ),
                    file=registry_name,
                    stratum=repr(s),
                    name=columns.stratum,
                )
                for s in unknown
            ]
        )
    _check_unique_ids(np.concatenate([c.id_hashes for c in chunks]), columns, registry_name, fetch)
    households = np.concatenate([c.ranks for c in chunks])
    del chunks

    order = _order(households)
    starts = _starts(households[order])
    group_first = np.flatnonzero(starts)  # positions in ``order`` where each household begins
    group_of_sorted = np.cumsum(starts) - 1
    group_stratum = codes[order][group_first]
    spans = codes[order] != group_stratum[group_of_sorted]
    if np.any(spans):
        _report_spanning(order, spans, group_first, group_of_sorted, columns, registry_name, fetch)
    counts = np.bincount(group_stratum, minlength=len(strata))
    allocation = allocate({s: int(counts[i]) for i, s in enumerate(strata)}, weights, letters)

    by_stratum = np.argsort(group_stratum, kind="stable")  # rank order within each stratum
    stratum_starts = np.searchsorted(group_stratum[by_stratum], np.arange(len(strata)))
    chosen = np.concatenate(
        [
            by_stratum[stratum_starts[i] : stratum_starts[i] + a.letters]
            for i, a in enumerate(allocation)
        ]
    ).astype(np.int64)
    group_end = np.append(group_first[1:], len(order))
    invitations = []
    for g in chosen:
        members = order[group_first[g] : group_end[g]]
        first = int(members[0])
        invitations.append(
            Invitation(
                strata[int(group_stratum[g])],
                tuple(sorted(int(m) for m in members)),
                (int(households[first, 0]), int(households[first, 1])),
            )
        )
    return InvitationPlan(rows, len(group_first), allocation, invitations)


def _check_unique_ids(
    id_hashes: np.ndarray, columns: RegistryColumns, name: str, fetch: FetchRows
) -> None:
    """Ids must be unique. Equal 64-bit hashes are only suspects: their ids are read back and
    compared, so a chance collision of two different ids is not reported."""
    order = np.argsort(id_hashes, kind="stable")
    ordered = id_hashes[order]
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(same) == 0:
        return
    suspects = sorted({int(order[i]) for i in same} | {int(order[i + 1]) for i in same})
    rows = fetch(suspects)
    first_seen: dict[str, int] = {}
    problems = []
    for position in suspects:
        identifier = rows[position][columns.id].strip()
        if identifier in first_seen:
            problems.append(
                _row_problem(
                    name,
                    position,
                    columns.id,
                    f"id '{identifier}' repeats row {first_seen[identifier] + 2}: ids must be "
                    "unique",
                )
            )
        else:
            first_seen[identifier] = position
    if problems:
        raise InputError(problems[:MAX_PROBLEMS])


def _report_spanning(
    order: np.ndarray,
    spans: np.ndarray,
    group_first: np.ndarray,
    group_of_sorted: np.ndarray,
    columns: RegistryColumns,
    name: str,
    fetch: FetchRows,
) -> None:
    bad = np.flatnonzero(spans)[:MAX_PROBLEMS]
    pairs = [(int(order[group_first[group_of_sorted[i]]]), int(order[i])) for i in bad]
    rows = fetch(sorted({p for pair in pairs for p in pair}))
    stratum = columns.stratum or ""
    problems = []
    for first, second in pairs:
        a, b = rows.get(first, {}), rows.get(second, {})
        problems.append(
            _row_problem(
                name,
                second,
                stratum,
                f"this household ({', '.join(b.get(c, '').strip() for c in columns.households)}) "
                f"is in stratum {b.get(stratum, '').strip()!r} here and "
                f"{a.get(stratum, '').strip()!r} on row {first + 2}: a household must lie in "
                "one stratum",
            )
        )
    raise InputError(problems)


# ---------------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True)
class InvitedRow:
    stratum: str
    id: str
    rank: str  # 64 hex digits: the household's rank (or the id's, without households)
    row: dict[str, str]  # the registry's row, every column


def finish(
    plan: InvitationPlan,
    columns: RegistryColumns,
    seed: str,
    rows: Mapping[int, dict[str, str]],
    registry_name: str,
) -> list[InvitedRow]:
    """The chosen households' letters: each goes to the member whose id has the smallest rank
    (full 256 bits); the household's rank is recomputed and checked against the reduction's."""
    invited = []
    for invitation in plan.invitations:
        members = [rows[position] for position in invitation.members]
        row = members[0]
        if columns.households:
            key = household_rank_key([row[c] for c in columns.households], row[columns.id].strip())
        else:
            key = row[columns.id].strip()
        digest = rank_digest(seed, key)
        words = (int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:16], "big"))
        if words != invitation.rank_words:
            raise InputError(
                [
                    problem(
                        N_(
                            "changed while it was being read (a chosen row no longer has the "
                            "rank it had): run again on a file nobody is writing"
                        ),
                        file=registry_name,
                        row=invitation.members[0] + 2,
                    )
                ]
            )
        recipient = min(members, key=lambda member: rank(seed, member[columns.id].strip()))
        invited.append(
            InvitedRow(invitation.stratum, recipient[columns.id].strip(), digest.hex(), recipient)
        )
    return invited


def invitation_record(
    *,
    seed: SeedLike,
    registry: dict[str, Any],
    letters: int,
    allocation: Sequence[StratumAllocation],
    invited: Sequence[InvitedRow],
    ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The invitation record (docs/record.md, "The invitation record"): pseudonymous ids only;
    ``ids`` are the invited people's keyed pseudonyms, in the order of ``invited`` (None: their
    ids as the registry holds them)."""
    named = [row.id for row in invited] if ids is None else list(ids)
    return {
        "kind": RECORD_KIND,
        "version": RECORD_VERSION,
        "tool": tool_versions(),
        "seed": seed.as_record(),
        "inputs": {"registry": registry},
        "letters": letters,
        "rank": RANK_RULE,
        "allocation": {
            "method": METHOD,
            "strata": [allocation_row(a) for a in allocation],
        },
        "invitations": [
            {"stratum": row.stratum, "id": name} for row, name in zip(invited, named, strict=True)
        ],
    }


def allocation_row(a: StratumAllocation) -> dict[str, Any]:
    return {
        "stratum": a.stratum,
        "households": a.households,
        "weight": a.weight,
        "letters": a.letters,
        "all_households": a.all_households,
    }
