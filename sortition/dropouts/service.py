"""``replace``: draw replacements for the members who dropped out, fairly, and record it as a link
of a chain that ``verify`` walks back to the original draw (docs/dropouts.md).

The rules (who is a candidate, the derived quotas) are ``sortition.record.replacement``, which
``verify`` uses too; the draw is the selection service's: any algorithm ``select`` takes, on the
instance of the candidates, the derived quotas and k = number of dropouts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sortition.dropouts.ids import IdList, typed_ids
from sortition.engine.feasibility import DEFAULT_TIME_LIMIT, QuotaChange
from sortition.engine.legacy import DEFAULT_MAX_ATTEMPTS
from sortition.engine.objectives import PoolDistribution
from sortition.errors import (
    N_,
    Advice,
    InfeasibleError,
    InputError,
    Message,
    problem,
)
from sortition.io.outputs import atomic_output_dir, write_csv, write_json
from sortition.io.pool import (
    PoolFile,
    read_pool,
    spreadsheet_rows,
    write_pool_split,
    write_pseudonym_table,
)
from sortition.io.tables import PathLike
from sortition.privacy.keys import PseudonymKey
from sortition.privacy.personal import refuse_personal_ids
from sortition.progress import Progress
from sortition.record.build import InputFiles, SeedLike, as_seed, tool_versions
from sortition.record.canonical import (
    file_sha256,
    pool_digest,
    pseudonymised_pool,
    quota_rows,
    quotas_digest,
)
from sortition.record.draw import (
    DRAW_KEYS,
    Draw,
    commitment_of,
    commitment_sha256,
    commitment_text,
    derive_draw,
)
from sortition.record.reader import (
    RecordReader,
    allow_empty_household,
    check_pseudonym_key,
    kind_name,
    pool_columns,
    pseudonym_method,
    record_instance,
)
from sortition.record.replacement import (
    REPLACEMENT_VERSION,
    ChainState,
    ReplacementBasis,
    alternates_pick,
    chain_state,
    id_problems,
    record_sha256,
    replacement_basis,
)
from sortition.selection.feasibility import (
    diagnose,
    size_reasons,
    time_limit_advice,
    total_change_advice,
)
from sortition.selection.service import (
    DEFAULT_ALGORITHM,
    LoadedInput,
    prepare_commitment,
    read_commitment,
    write_lottery,
)
from sortition.verify.service import read_record


@dataclass(frozen=True)
class Replacement:
    """A drawn replacement: the record, and what produced it."""

    basis: ReplacementBasis
    pool_file: PoolFile | None  # the original pool file, for selected.csv and remaining.csv
    record: dict[str, Any]
    draw: Draw
    fair: PoolDistribution | None
    sources: tuple[Path, ...]  # the files read: an output folder must never replace them

    @property
    def replacements(self) -> list[str]:
        return list(self.record["replacements"])

    @property
    def panel(self) -> list[str]:
        return list(self.record["panel"])


@dataclass(frozen=True)
class ReplacementCommitment:
    """Everything a replacement draw fixes before its seed exists (``replace --commit-only``):
    the committed part (docs/record.md, replacement record version 2: the chain it builds on,
    the dropouts and the unavailable as well as the candidates, the derived quotas and the
    distribution), and what produced it."""

    basis: ReplacementBasis
    previous: dict[str, Any]
    pool_file: PoolFile | None  # None when drawn from a commitment file without --pool
    document: dict[str, Any]  # the committed part, in canonical key order
    fair: PoolDistribution | None
    sources: tuple[Path, ...]
    name: str = "record.json"  # the file name error messages give

    @property
    def sha256(self) -> str:
        return commitment_sha256(self.document)


def replace_dropouts(
    record_path: PathLike,
    pool_path: PathLike,
    dropouts: IdList | list[str] | tuple[str, ...],
    seed: SeedLike | str | None,
    unavailable: IdList | list[str] | tuple[str, ...] = (),
    *,
    algorithm: str = DEFAULT_ALGORITHM,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    panels: int | None = None,
    by_type: bool = True,
    progress: Progress | None = None,
    time_limit: float | None = None,
    from_alternates: PathLike | None = None,
    pseudonym_key: PseudonymKey | None = None,
    ids_are_public: bool = False,
) -> Replacement:
    """Draw replacements for ``dropouts`` (members of the panel of the record at
    ``record_path``: a selection record, or the replacement record of an earlier round) from the
    candidates, under the derived quotas, with ``algorithm`` and the seed: ``commit_replacement``
    then ``draw_replacement``, so that the one step and the two give the same record.

    Bad input (exit 2): a record that is not a selection or replacement record, a pool file that
    is not the record's pool, a dropout not on the panel, an unavailable id not in the pool.
    No replacement set meets the derived quotas: InfeasibleError (exit 3) with the smallest change
    of the original quotas that would allow one.

    With ``from_alternates`` (the folder ``alternates`` wrote for this panel) the replacements are
    the best subset of the alternates who are still candidates (exact, CP-SAT): the fewest people
    outside the quotas, as many as there are dropouts if enough alternates are left; no seed.

    When the chain's selection record names people by keyed pseudonyms, ``pseudonym_key`` (the
    key it was made with) is required: the pool file is read with it, and the dropouts and
    unavailable people may be given by the pool file's ids or by their pseudonyms
    (``IdList.pseudonymised``); the new record names everyone by pseudonym. Without pseudonyms,
    ids that look personal are refused unless ``ids_are_public`` (as ``select`` does)."""
    if (seed is None) == (from_alternates is None):
        raise InputError(
            [problem(N_("a replacement takes a seed, or alternates (--from-alternates), not both"))]
        )
    if from_alternates is None:
        assert seed is not None
        seed = as_seed(seed)  # a seed that is not valid text is refused before any work
        commitment = commit_replacement(
            record_path,
            pool_path,
            dropouts,
            unavailable,
            algorithm=algorithm,
            max_attempts=max_attempts,
            panels=panels,
            by_type=by_type,
            progress=progress,
            time_limit=time_limit,
            pseudonym_key=pseudonym_key,
            ids_are_public=ids_are_public,
        )
        return draw_replacement(commitment, seed)
    record_path, pool_path = Path(record_path), Path(pool_path)
    previous, state, dropouts, unavailable = _read_round(
        record_path, dropouts, unavailable, pseudonym_key
    )
    name = record_path.name
    pool_file = read_original_pool(state.root, name, pool_path, pseudonym_key, ids_are_public)
    document, sha = read_alternates(Path(from_alternates), previous, name)
    basis = replacement_basis(state, dropouts.ids, unavailable.ids, document["alternates"])
    record = alternates_replacement(
        basis, previous, document["alternates"], sha, pool_path, pool_file
    )
    draw = Draw(list(record["replacements"]), "alternates")
    sources = (record_path, pool_path, Path(from_alternates) / "alternates.json")
    return Replacement(basis, pool_file, record, draw, None, sources)


def check_round(
    record_path: PathLike,
    dropouts: IdList | list[str] | tuple[str, ...],
    unavailable: IdList | list[str] | tuple[str, ...] = (),
    pseudonym_key: PseudonymKey | None = None,
) -> int:
    """The checks of a round's lists that ``replace`` makes before reading the pool file or
    solving anything, for an entry layer to make before it starts the work: the record is a
    selection or a replacement record with a panel, the key is the one it was made with, every
    dropout is on its panel and every unavailable person in its pool (InputError naming the
    list's file and line otherwise); and that no fewer candidates remain than there are
    dropouts, a count that needs no solver (replace's InfeasibleError, with its advice,
    otherwise). Returns the number of the round the lists are for."""
    _previous, state, dropouts, unavailable = _read_round(
        Path(record_path), dropouts, unavailable, pseudonym_key
    )
    _require_candidates(replacement_basis(state, dropouts.ids, unavailable.ids))
    return state.round


def check_panel_pool(
    record_path: PathLike,
    pool_path: PathLike,
    pseudonym_key: PseudonymKey | None = None,
    ids_are_public: bool = False,
) -> None:
    """The check of the pool file that ``replace`` and ``alternates`` make before solving
    anything, for an entry layer to make before it starts the work: the pool file, read as the
    selection record at the root of the panel's chain read it (with the key its pseudonyms were
    made with), is the pool the panel was drawn from, its canonical digest the record's.
    InputError naming the pool file otherwise (a file written again since the draw, another
    file, a file that cannot be read, ids that look personal without ``ids_are_public``), and
    naming the record when it is not a panel's (a selection or replacement record)."""
    record_path = Path(record_path)
    _previous, state = _panel_record(record_path)
    read_original_pool(state.root, record_path.name, Path(pool_path), pseudonym_key, ids_are_public)


def _read_round(
    record_path: Path,
    dropouts: IdList | list[str] | tuple[str, ...],
    unavailable: IdList | list[str] | tuple[str, ...],
    pseudonym_key: PseudonymKey | None,
) -> tuple[dict[str, Any], ChainState, IdList, IdList]:
    """The record a round builds on, the chain's state, and the dropouts and unavailable people
    as the chain names them (InputError for a record of another kind or ids that cannot be used
    for this round)."""
    dropouts = dropouts if isinstance(dropouts, IdList) else typed_ids(dropouts)
    unavailable = unavailable if isinstance(unavailable, IdList) else typed_ids(unavailable)
    previous, state = _panel_record(record_path)
    name = record_path.name
    dropouts, unavailable = keyed_lists(state, name, pseudonym_key, dropouts, unavailable)
    problems = id_problems(state, dropouts.ids, unavailable.ids)
    if problems:
        lists = {"dropouts": dropouts, "unavailable": unavailable}
        raise InputError(
            [lists[what].problem(position, message) for what, position, message in problems]
        )
    return previous, state, dropouts, unavailable


def _panel_record(record_path: Path) -> tuple[dict[str, Any], ChainState]:
    """The record a round builds on and the chain's state (InputError for a record of another
    kind, or a commitment, which has no panel yet)."""
    previous = read_record(record_path)
    name = record_path.name
    if previous["kind"] not in ("selection", "replacement"):
        raise InputError(
            [
                problem(
                    N_(
                        "is {kind} record: replacements build on a selection record "
                        "or on an earlier replacement record"
                    ),
                    file=name,
                    kind=kind_name(previous["kind"]),
                )
            ]
        )
    RecordReader(name).text(previous, "seed.value")  # a commitment has no panel yet
    return previous, chain_state(previous, name)


def commit_replacement(
    record_path: PathLike,
    pool_path: PathLike,
    dropouts: IdList | list[str] | tuple[str, ...],
    unavailable: IdList | list[str] | tuple[str, ...] = (),
    *,
    algorithm: str = DEFAULT_ALGORITHM,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    panels: int | None = None,
    by_type: bool = True,
    progress: Progress | None = None,
    time_limit: float | None = None,
    pseudonym_key: PseudonymKey | None = None,
    ids_are_public: bool = False,
) -> ReplacementCommitment:
    """Everything of the replacement draw but the seed (``replace --commit-only``): the checks
    and errors of ``replace_dropouts``, then the commitment of the draw on the candidates and the
    derived quotas, which also fixes the round, the record it builds on, the dropouts and the
    unavailable (docs/dropouts.md)."""
    record_path, pool_path = Path(record_path), Path(pool_path)
    previous, state, dropouts, unavailable = _read_round(
        record_path, dropouts, unavailable, pseudonym_key
    )
    name = record_path.name
    pool_file = read_original_pool(state.root, name, pool_path, pseudonym_key, ids_are_public)
    basis = replacement_basis(state, dropouts.ids, unavailable.ids)
    require_replaceable(basis, DEFAULT_TIME_LIMIT if time_limit is None else time_limit)
    loaded = LoadedInput(
        pool_file,
        basis.instance.quotas,
        basis.instance,
        _input_files(state.root, name, pool_path, pool_file),
        sources=(record_path, pool_path),
    )
    commitment = prepare_commitment(
        loaded,
        algorithm,
        max_attempts,
        by_type=by_type,
        progress=progress,
        time_limit=time_limit,
        panels=panels,
    )
    drawn = dict(commitment.document)
    drawn["kind"], drawn["version"] = "replacement", REPLACEMENT_VERSION
    drawn["round"] = state.round
    drawn["builds_on"] = {"kind": previous["kind"], "sha256": record_sha256(previous)}
    drawn["dropouts"] = list(basis.dropouts)
    drawn["unavailable"] = list(basis.unavailable)
    drawn["inputs"] = _replacement_inputs(basis, drawn["inputs"])
    drawn["previous"] = previous
    return ReplacementCommitment(
        basis,
        previous,
        pool_file,
        commitment_of(drawn),
        commitment.fair,
        (record_path, pool_path),
        name,
    )


def draw_replacement(commitment: ReplacementCommitment, seed: SeedLike | str) -> Replacement:
    """The replacements drawn from ``commitment`` with ``seed`` (sortition.record.draw), and
    their record."""
    seed = as_seed(seed)
    draw = derive_draw(commitment.document, seed.value, commitment.name)
    record = replacement_record(
        commitment.basis, commitment.previous, commitment.document, seed, draw
    )
    return Replacement(
        commitment.basis, commitment.pool_file, record, draw, commitment.fair, commitment.sources
    )


def read_replacement_commitment(
    path: PathLike,
    expect: str | None = None,
    pool_path: PathLike | None = None,
    pseudonym_key: PseudonymKey | None = None,
) -> ReplacementCommitment:
    """The commitment ``replace --commit-only`` wrote, checked as ``draw`` checks a selection's
    (``read_commitment``: with ``expect`` its SHA-256, its canonical text, its draw's content)
    and against the chain it embeds (the record it builds on, the round, the dropouts, the
    candidates and the derived quotas: sortition.verify.replacement). With ``pool_path`` the
    pool file is read too (with ``pseudonym_key`` when the chain names people by keyed
    pseudonyms), for selected.csv and remaining.csv."""
    path = Path(path)
    document = read_commitment(path, expect, kind="replacement")
    name = path.name
    previous = RecordReader(name).mapping(document, "previous")
    state = chain_state(previous, name)
    reader = RecordReader(name)
    basis = replacement_basis(
        state, reader.texts(document, "dropouts"), reader.texts(document, "unavailable")
    )
    pool_file = None
    sources: tuple[Path, ...] = (path,)
    if pool_path is not None:
        pool_path = Path(pool_path)
        # ids_are_public: the published commitment already names everyone the record will
        pool_file = read_original_pool(state.root, name, pool_path, pseudonym_key, True)
        sources = (path, pool_path)
    return ReplacementCommitment(basis, previous, pool_file, document, None, sources, name)


def is_replacement_commitment(path: PathLike) -> bool:
    """Whether the file at ``path`` reads as a replacement draw's commitment (its kind is
    "replacement"); anything else, a file that is not JSON included, is for ``draw_committed``
    (``read_commitment``) to report on."""
    try:
        document = json.loads(Path(path).read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(document, dict) and document.get("kind") == "replacement"


def write_replacement_commitment(
    commitment: ReplacementCommitment, out: PathLike, force: bool = False
) -> list[Path]:
    """Write ``commitment.json`` (its SHA-256, ``commitment.sha256``, is what to publish before
    the seed exists), the M panels (``lottery.csv``) when there are any, and the private
    pseudonym table when the ids are pseudonyms, all at once."""
    out = Path(out)
    names = ["commitment.json"]
    with atomic_output_dir(out, force, commitment.sources) as staging:
        (staging / "commitment.json").write_text(
            commitment_text(commitment.document), encoding="utf-8"
        )
        names += write_lottery(staging, commitment.document)
        if commitment.pool_file is not None:
            names += write_pseudonym_table(staging, commitment.pool_file)
    return [out / name for name in names]


def keyed_lists(
    state: ChainState,
    name: str,
    key: PseudonymKey | None,
    *lists: IdList,
) -> tuple[IdList, ...]:
    """The lists of ids as the chain's records name people: mapped through ``key`` when the
    selection record holds keyed pseudonyms (the key must be the one it states: InputError
    otherwise, and when it is missing), unchanged when it holds the pool file's own ids (then
    no key may be given)."""
    check_pseudonym_key(state.root, key, name)
    method = pseudonym_method(state.root, name)
    if method is None or key is None:
        return lists
    known = set(state.instance.pool.ids)
    return tuple(ids.pseudonymised(key, int(method["length"]), known) for ids in lists)


def read_original_pool(
    root: dict[str, Any],
    name: str,
    pool_path: Path,
    pseudonym_key: PseudonymKey | None = None,
    ids_are_public: bool = False,
) -> PoolFile:
    """The pool file, read as the selection record read it (with the key its pseudonyms were
    made with, ``check_pseudonym_key``); it must be that record's pool. Without pseudonyms, ids
    that look personal are refused unless ``ids_are_public`` (sortition.privacy.personal)."""
    check_pseudonym_key(root, pseudonym_key, name)
    quotas = record_instance(root, name).quotas
    id_column, household_columns = pool_columns(root, name)
    pool_file = read_pool(
        pool_path,
        quotas,
        id_column,
        household_columns,
        allow_empty_household(root, name),
        pseudonym_key,
    )
    if pseudonym_key is None and not ids_are_public:
        rows = spreadsheet_rows(pool_file.table)
        refuse_personal_ids(pool_file.source_ids, pool_file.id_column, pool_path.name, rows)
    stated = RecordReader(name).text(root, "inputs.pool.digest")
    digest = pool_digest(pool_file.pool, quotas)
    if digest != stated:
        raise InputError(
            [
                problem(
                    N_(
                        "is not the pool the panel was drawn from (canonical digest {digest}, "
                        "the selection record says {stated})"
                    ),
                    file=pool_path.name,
                    digest=digest,
                    stated=stated,
                )
            ]
        )
    return pool_file


def read_alternates(
    folder: Path, previous: dict[str, Any], name: str
) -> tuple[dict[str, Any], str]:
    """The alternates record in ``folder`` and its SHA-256; it must have been chosen for this
    panel or an earlier state of its chain."""
    path = folder / "alternates.json"
    document = read_record(path)
    if document["kind"] != "alternates":
        raise InputError(
            [
                problem(
                    N_("is {kind} record, not an alternates record"),
                    file=str(path),
                    kind=kind_name(document["kind"]),
                )
            ]
        )
    RecordReader(path.name).texts(document, "alternates")
    chain = [previous]
    while chain[-1].get("kind") == "replacement" and isinstance(chain[-1].get("previous"), dict):
        chain.append(chain[-1]["previous"])
    stated = RecordReader(path.name).text(document, "builds_on.sha256")
    if stated not in {record_sha256(link) for link in chain}:
        raise InputError(
            [
                problem(
                    N_(
                        "was chosen for another panel (it builds on {stated}, which is not "
                        "{record} nor a record it builds on)"
                    ),
                    file=str(path),
                    stated=stated,
                    record=name,
                )
            ]
        )
    return document, hashlib.sha256(path.read_bytes()).hexdigest()


def alternates_replacement(
    basis: ReplacementBasis,
    previous: dict[str, Any],
    alternates: list[str],
    alternates_sha256: str,
    pool_path: Path,
    pool_file: PoolFile,
) -> dict[str, Any]:
    """The replacement record of the best subset of the alternates (``alternates_pick``)."""
    instance = basis.instance
    if instance.pool.size == 0:
        raise InfeasibleError(
            [problem(N_("none of the alternates is left to replace the dropouts"))],
            [
                Message(
                    N_(
                        "draw the replacements from the whole pool: sortition replace without "
                        "--from-alternates"
                    )
                )
            ],
        )
    value, picked = alternates_pick(instance)
    ids = instance.pool.ids
    replacements = sorted(ids[int(i)] for i in np.flatnonzero(picked))
    inputs: dict[str, Any] = {
        "pool": {
            "digest": pool_digest(instance.pool, instance.quotas),
            "file": pool_path.name,
            "file_sha256": file_sha256(pool_path),
            "people": instance.pool.size,
        },
        "quotas": {"digest": quotas_digest(instance.quotas)},
    }
    if pool_file.pseudonyms is not None:
        inputs["pool"]["pseudonyms"] = pool_file.pseudonyms.describe()
    return {
        "kind": "replacement",
        "version": REPLACEMENT_VERSION,
        "tool": tool_versions(),
        "round": basis.state.round,
        "builds_on": {"kind": previous["kind"], "sha256": record_sha256(previous)},
        "draw": {"method": "alternates", "deviation": value},
        "dropouts": list(basis.dropouts),
        "unavailable": list(basis.unavailable),
        "replacements": replacements,
        "panel": basis.final_panel(replacements),
        "inputs": inputs,
        "k": instance.k,
        "algorithm": "alternates",
        "parameters": {"alternates_sha256": alternates_sha256, "alternates": sorted(alternates)},
        "quotas": quota_rows(instance.quotas),
        "pool": pseudonymised_pool(instance.pool, instance.quotas),
        "previous": previous,
    }


def _input_files(
    root: dict[str, Any], name: str, pool_path: Path, pool_file: PoolFile
) -> InputFiles:
    id_column, household_columns = pool_columns(root, name)
    return InputFiles(
        pool_name=pool_path.name,
        pool_sha256=file_sha256(pool_path),
        quotas_name="",
        quotas_sha256="",
        id_column=id_column,
        household_columns=tuple(household_columns),
        allow_empty_household=allow_empty_household(root, name),
        pseudonyms=None if pool_file.pseudonyms is None else pool_file.pseudonyms.describe(),
    )


def _replacement_inputs(basis: ReplacementBasis, inputs: dict[str, Any]) -> dict[str, Any]:
    """The replacement draw's ``inputs``: the candidates (with the pool file they come from) and
    the derived quotas, each with its canonical digest."""
    instance = basis.instance
    pool = dict(inputs["pool"])
    pool["digest"] = pool_digest(instance.pool, instance.quotas)
    pool["people"] = instance.pool.size
    return {"pool": pool, "quotas": {"digest": quotas_digest(instance.quotas)}}


def replacement_record(
    basis: ReplacementBasis,
    previous: dict[str, Any],
    committed: dict[str, Any],
    seed: SeedLike,
    draw: Draw,
) -> dict[str, Any]:
    """The replacement record (version 2, docs/record.md): what a reader wants first (the round,
    the record it builds on, the seed, the dropouts and the replacements, the new panel), then
    the replacement draw's committed part, then the previous record itself. The kind, version,
    tool, round, record it builds on, dropouts and unavailable are the commitment's."""
    record: dict[str, Any] = {
        "kind": committed["kind"],
        "version": committed["version"],
        "tool": committed["tool"],
        "round": committed["round"],
        "builds_on": committed["builds_on"],
        "commitment": {"sha256": commitment_sha256(committed)},
        "seed": seed.as_record(),
        "draw": draw.as_record(),
        "dropouts": committed["dropouts"],
        "unavailable": committed["unavailable"],
        "replacements": list(draw.panel),
        "panel": basis.final_panel(draw.panel),
    }
    # the draw's committed part, after what a reader wants first and before the previous record
    record.update({key: committed[key] for key in DRAW_KEYS if key in committed})
    record["previous"] = previous
    return record


def require_replaceable(basis: ReplacementBasis, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
    """InfeasibleError (exit 3) when no set of r candidates meets the derived quotas, with the
    reasons and the smallest change in the original quotas' terms."""
    _require_candidates(basis)
    instance = basis.instance
    r, stayers = instance.k, len(basis.stayers)
    diagnosis = diagnose(instance, time_limit)
    if diagnosis.feasible:
        return
    lead = problem(
        N_(
            "no {r} of the {size} candidates meet the quotas left by the {stayers} "
            "members who stay (docs/dropouts.md)"
        ),
        r=r,
        size=instance.pool.size,
        stayers=stayers,
    )
    reasons = [lead] + [
        problem(N_("replacement draw (k = {r}, derived quotas): {reason}"), r=r, reason=reason)
        for reason in diagnosis.reasons
    ]
    advice: list[str]
    if diagnosis.relaxation is None:
        advice = [no_change_advice(basis, diagnosis.relaxation_timed_out, time_limit)]
    else:
        advice = [
            Advice(
                N_(
                    "the smallest change of the original quotas that allows a replacement "
                    "(replace keeps the recorded quotas: this is for the organiser to weigh):"
                ),
                Advice.CHANGE_NOTE,
            )
        ]
        advice += [original_terms(basis, change) for change in diagnosis.relaxation.changes]
        advice.append(total_change_advice(diagnosis.relaxation))
    raise InfeasibleError(reasons, advice)


def _require_candidates(basis: ReplacementBasis) -> None:
    """InfeasibleError (exit 3) when fewer candidates (or, under the household rule, fewer of
    their households) remain than there are dropouts to replace: no change of the quotas can
    help then."""
    instance = basis.instance
    r = instance.k
    size, _ = size_reasons(instance)
    if size:
        if instance.pool.households is None:
            reason = problem(
                N_("{r} dropouts to replace, but only {size} candidates remain"),
                r=r,
                size=instance.pool.size,
            )
        else:
            reason = problem(
                N_(
                    "{r} dropouts to replace, but only {size} candidates from {count} "
                    "households remain"
                ),
                r=r,
                size=instance.pool.size,
                count=instance.pool.household_count(),
            )
        raise InfeasibleError(
            [reason],
            [
                Advice(
                    N_(
                        "no change of the quotas can help: replace fewer of the dropouts, or "
                        "recruit more volunteers and draw a new panel"
                    ),
                    Advice.NO_QUOTA_CHANGE,
                )
            ],
        )


def no_change_advice(basis: ReplacementBasis, timed_out: bool, time_limit: float) -> Advice:
    """What to advise when there is no smallest change to show: the feasibility diagnosis's own
    advice is for ``check`` and ``select`` (run ``check``, lower k, widen the quota file's
    min_flex/max_flex), none of which ``replace`` takes: it reads the quotas from the record and
    k is the number of dropouts."""
    if timed_out:  # the same replacement with a longer time limit: the entry layer says how
        return time_limit_advice(time_limit)
    quotas = basis.instance.quotas.rows
    if any(q.min_flex is not None or q.max_flex is not None for q in quotas):
        return Advice(
            N_(
                "no change of the quotas within their recorded min_flex/max_flex bounds makes a "
                "replacement possible: replace fewer of the dropouts, or recruit more volunteers "
                "and draw a new panel"
            ),
            Advice.NO_QUOTA_CHANGE,
        )
    return Advice(
        N_(
            "no change of the quotas makes a replacement possible: replace fewer of the "
            "dropouts, or recruit more volunteers and draw a new panel"
        ),
        Advice.NO_QUOTA_CHANGE,
    )


def original_terms(basis: ReplacementBasis, change: QuotaChange) -> Advice:
    """A change of a derived quota as a change of the original quota: the derived bounds are the
    original ones minus the staying members with that value."""
    quota = basis.state.instance.quotas.rows[change.value_index]
    stay = int(basis.stay[change.value_index])
    old = quota.min if change.bound == "min" else quota.max
    new = change.new + stay
    template = (
        N_("{feature} {value}: lower {bound} from {old} to {new}")
        if new < old
        else N_("{feature} {value}: raise {bound} from {old} to {new}")
    )
    return Advice(
        template,
        Advice.QUOTA_CHANGE,
        feature=change.feature,
        value=change.value,
        bound=change.bound,
        old=old,
        new=new,
    )


def write_replacement(replacement: Replacement, out: PathLike, force: bool = False) -> list[Path]:
    """Write replacement.json, and with the pool file selected.csv (the new full panel) and
    remaining.csv (everyone else), both with the pool file's rows and columns in its order, for
    the fair algorithms probabilities.csv (each candidate's chance of being drawn, as the record
    states it), and when the ids are pseudonyms the organiser's table private/pseudonyms.csv, all
    at once."""
    out = Path(out)
    names = []
    with atomic_output_dir(out, force, replacement.sources) as staging:
        pool_file = replacement.pool_file
        if pool_file is not None:
            position = {person: i for i, person in enumerate(pool_file.pool.ids)}
            panel = np.array(sorted(position[p] for p in replacement.panel), dtype=np.int64)
            write_pool_split(staging, pool_file, panel)
            names += ["selected.csv", "remaining.csv"]
            probabilities = replacement.record.get("probabilities")
            if isinstance(probabilities, dict):
                rows = _probability_rows(replacement.basis, probabilities)
                write_csv(staging / "probabilities.csv", ["id", "probability"], rows)
                names.append("probabilities.csv")
        names += write_lottery(staging, replacement.record)
        write_json(staging / "replacement.json", replacement.record)
        names.append("replacement.json")
        if pool_file is not None:
            names += write_pseudonym_table(staging, pool_file)
    return [out / name for name in names]


def _probability_rows(
    basis: ReplacementBasis, probabilities: dict[str, Any]
) -> list[tuple[str, str]]:
    """(id, probability) for every candidate, in the pool file's row order (as
    sortition.selection.distribution.probability_rows writes them)."""
    pool = basis.instance.pool
    by_row = np.argsort(pool.source_rows, kind="stable")
    return [(pool.ids[i], f"{float(probabilities[pool.ids[i]]):.12f}") for i in by_row]
