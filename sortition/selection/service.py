"""Stage 2 as a service: load the inputs, check them, draw a panel, build the record, write it all.

The CLI calls these functions and prints; tests call them directly.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sortition.engine.feasibility import DEFAULT_TIME_LIMIT
from sortition.engine.legacy import DEFAULT_MAX_ATTEMPTS
from sortition.engine.objectives import PoolDistribution, fair_distribution
from sortition.engine.registry import ALGORITHMS as REGISTRY
from sortition.engine.settings import DEFAULT_GAMMA, EngineSettings
from sortition.errors import (
    N_,
    InputError,
    LotteryCoverageError,
    Message,
    Problem,
    problem,
    require_file,
)
from sortition.io.outputs import atomic_output_dir, write_csv, write_json
from sortition.io.pool import (
    PoolFile,
    read_pool,
    spreadsheet_rows,
    write_pool_split,
    write_pseudonym_table,
)
from sortition.io.quotas import read_quota_file
from sortition.io.tables import PathLike
from sortition.model import Instance, Quotas
from sortition.privacy.keys import PseudonymKey
from sortition.privacy.personal import refuse_personal_ids
from sortition.progress import Progress
from sortition.record.build import (
    READABLE_VERSIONS,
    InputFiles,
    SeedLike,
    as_seed,
    commitment_record,
    needs_a_panel,
    selection_record,
)
from sortition.record.canonical import file_sha256, pool_digest, pseudonymised_pool
from sortition.record.draw import Draw, commitment_sha256, commitment_text, derive_draw
from sortition.record.reader import (
    RecordReader,
    allow_empty_household,
    check_pseudonym_key,
    embedded_quotas,
    pool_columns,
    record_instance,
)
from sortition.record.replacement import COMMITTED_REPLACEMENT_VERSIONS
from sortition.record.types import TypeTable, publish_types_of, type_table, types_document
from sortition.selection.distribution import distribution_document, probability_rows
from sortition.selection.feasibility import require_feasible
from sortition.selection.transparent import UniformLottery, assign_members, round_to_uniform
from sortition.verify.items import parse_sha256
from sortition.verify.replacement import check_replacement_commitment
from sortition.verify.selection import check_commitment

ALGORITHMS = tuple(REGISTRY)
DEFAULT_ALGORITHM = "leximin"


@dataclass(frozen=True)
class LoadedInput:
    """The validated inputs of one selection."""

    pool_file: PoolFile
    quotas: Quotas
    instance: Instance
    files: InputFiles
    quota_warnings: tuple[str, ...] = ()
    sources: tuple[Path, ...] = ()  # the files read: an output folder must never replace them

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the organiser should see: the quota file's warnings, then the pool's."""
        return self.quota_warnings + self.pool_file.warnings


def load_input(
    pool_path: PathLike,
    quotas_path: PathLike,
    k: int,
    id_column: str | None = None,
    household_columns: Sequence[str] = (),
    allow_empty_household: bool = False,
    *,
    pseudonym_key: PseudonymKey | None = None,
    ids_are_public: bool = False,
) -> LoadedInput:
    """Read and validate both files (exit 2 on any structural problem, all reported at once).
    With ``allow_empty_household`` a person with an empty household cell is a household of
    their own (the record notes it); without it such a cell is bad input.

    With ``pseudonym_key`` every id becomes its keyed pseudonym (docs/privacy.md): the record,
    the distribution and the lottery then name nobody. Without one, ids that look personal
    (sortition.privacy.personal) are refused unless ``ids_are_public`` says they are not."""
    if k < 1:
        raise InputError([problem(N_("k must be at least 1, got {k}"), k=k)])
    pool_path, quotas_path = Path(pool_path), Path(quotas_path)
    quota_file = read_quota_file(quotas_path)
    quotas = quota_file.quotas
    pool_file = read_pool(
        pool_path, quotas, id_column, household_columns, allow_empty_household, pseudonym_key
    )
    if pseudonym_key is None and not ids_are_public:
        rows = spreadsheet_rows(pool_file.table)
        refuse_personal_ids(pool_file.source_ids, pool_file.id_column, pool_path.name, rows)
    instance = Instance(pool_file.pool, quotas, k)
    files = InputFiles(
        pool_name=pool_path.name,
        pool_sha256=file_sha256(pool_path),
        quotas_name=quotas_path.name,
        quotas_sha256=file_sha256(quotas_path),
        id_column=pool_file.id_column,
        household_columns=pool_file.household_columns,
        allow_empty_household=pool_file.allow_empty_household,
        pseudonyms=None if pool_file.pseudonyms is None else pool_file.pseudonyms.describe(),
    )
    return LoadedInput(
        pool_file,
        quotas,
        instance,
        files,
        quota_warnings=quota_file.warnings,
        sources=(pool_path, quotas_path),
    )


@dataclass(frozen=True)
class Commitment:
    """Everything fixed before the seed exists: the commitment record, and what produced it."""

    loaded: LoadedInput
    algorithm: str
    document: dict[str, Any]
    fair: PoolDistribution | None = None
    types: TypeTable | None = None  # with --publish-types: the pool by type (private in part)

    @property
    def sha256(self) -> str:
        return commitment_sha256(self.document)


@dataclass(frozen=True)
class Selection:
    loaded: LoadedInput
    algorithm: str
    seed: SeedLike
    panel: np.ndarray  # canonical person indices, sorted
    record: dict[str, Any]
    draw: Draw
    fair: PoolDistribution | None = None

    @property
    def panel_ids(self) -> list[str]:
        ids = self.loaded.instance.pool.ids
        return [ids[i] for i in self.panel]

    @property
    def distribution(self) -> dict[str, Any] | None:
        return self.record.get("distribution")


def prepare_commitment(
    loaded: LoadedInput,
    algorithm: str,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    *,
    by_type: bool = True,
    progress: Progress | None = None,
    time_limit: float | None = None,
    panels: int | None = None,
    gamma: float = DEFAULT_GAMMA,
    min_type_size: int | None = None,
    diversity_within: float | None = None,
) -> Commitment:
    """Check feasibility (exit 3 with advice) and compute all that does not depend on the seed:
    for the fair algorithms the distribution over panels, and with ``panels`` = M its rounding
    to a uniform lottery over M panels. ``time_limit`` seconds bound the whole of it, the
    feasibility check included (exit 4 past them). With ``min_type_size`` = T
    (``--publish-types``) the commitment publishes type counts, withholding the types of fewer
    than T people (sortition.record.types). With ``diversity_within`` = FRACTION the lottery runs
    only over panels whose diversity score is at most (1 + FRACTION) × the most diverse panel's
    (docs/diversity.md)."""
    if algorithm not in ALGORITHMS:
        known = ", ".join(ALGORITHMS)
        raise InputError(
            [
                problem(
                    N_("unknown algorithm '{algorithm}' (known: {known})"),
                    algorithm=algorithm,
                    known=known,
                )
            ]
        )
    _check_diversity_within(algorithm, diversity_within, panels)
    if panels is not None and algorithm == "legacy":
        raise InputError(
            [
                problem(
                    N_(
                        "--panels needs a distribution: use --algorithm leximin, maximin, nash or "
                        "goldilocks"
                    )
                )
            ]
        )
    if min_type_size is not None:
        refuse_publish_types(loaded, algorithm, by_type, panels, min_type_size, diversity_within)
    instance = loaded.instance
    started = time.monotonic()
    require_feasible(instance, DEFAULT_TIME_LIMIT if time_limit is None else time_limit)
    stated_time_limit = time_limit
    if time_limit is not None:  # the limit covers the whole run, the feasibility check included
        time_limit = max(time_limit - (time.monotonic() - started), 1e-3)
    if algorithm == "legacy":
        document = commitment_record(
            instance, loaded.files, algorithm, {"max_attempts": max_attempts}
        )
        return Commitment(loaded, algorithm, document)
    fair = fair_distribution(
        instance,
        algorithm,
        by_type=by_type,
        settings=EngineSettings(gamma=gamma),
        progress=progress,
        time_limit=time_limit,
        diversity_within=diversity_within,
        stated_time_limit=stated_time_limit,
    )
    return commit_distribution(loaded, algorithm, fair, panels, gamma, min_type_size)


def refuse_publish_types(
    loaded: LoadedInput,
    algorithm: str,
    by_type: bool,
    panels: int | None,
    min_type_size: int,
    diversity_within: float | None = None,
) -> None:
    """InputError (exit 2) when type counts cannot be published for this selection: they need
    a pseudonym key (it makes the withheld types' digests), a fair algorithm on the types path
    (LEGACY and the person path draw from the people, not from the types), no households (a
    household links people across types) and no M-panel lottery (its panels list people)."""
    why: list[Message] = []
    if loaded.pool_file.pseudonyms is None:
        why.append(
            Message(
                N_(
                    "needs --pseudonym-key (the key makes the digests of the withheld types, so "
                    "that nobody without it can enumerate them)"
                )
            )
        )
    if algorithm == "legacy":
        why.append(
            Message(
                N_("needs a fair algorithm (LEGACY's draw runs through the people, not the types)")
            )
        )
    if algorithm == "diversimax" or diversity_within is not None:
        why.append(
            Message(
                N_(
                    "does not go with DIVERSIMAX or --diversity-within yet (their diversity "
                    "scores are checked from the people's values, which type counts withhold)"
                )
            )
        )
    if not by_type:
        why.append(
            Message(N_("does not go with --per-person (the distribution would list people)"))
        )
    if loaded.instance.pool.households is not None:
        why.append(
            Message(
                N_("does not go with --household-columns (a household links people of two types)")
            )
        )
    if panels is not None:
        why.append(Message(N_("does not go with --panels (the M panels list people)")))
    if min_type_size < 1:
        why.append(
            Message(N_("--min-type-size must be at least 1, not {size}"), size=min_type_size)
        )
    if why:
        raise InputError([problem(N_("--publish-types {reason}"), reason=reason) for reason in why])


# The algorithms whose lottery --diversity-within restricts: the fair ones but DIVERSIMAX.
DIVERSITY_WITHIN_ALGORITHMS = ("leximin", "maximin", "nash", "goldilocks")


def _check_diversity_within(algorithm: str, within: float | None, panels: int | None) -> None:
    """--diversity-within applies to a lottery of a fair algorithm, without --panels (exit 2)."""
    if within is None:
        return
    if algorithm not in DIVERSITY_WITHIN_ALGORITHMS:
        raise InputError(
            [
                problem(
                    N_(
                        "--diversity-within restricts a fair lottery: use it with --algorithm "
                        "{algorithms}, not {algorithm}"
                    ),
                    algorithms=", ".join(DIVERSITY_WITHIN_ALGORITHMS),
                    algorithm=algorithm,
                )
            ]
        )
    if not within >= 0:
        raise InputError(
            [problem(N_("--diversity-within must be 0 or more, got {value}"), value=repr(within))]
        )
    if panels is not None:
        raise InputError(
            [
                problem(
                    N_(
                        "--diversity-within with --panels is not supported yet: the M-panel "
                        "lottery's panels are not checked against the diversity bound"
                    )
                )
            ]
        )


def commit_distribution(
    loaded: LoadedInput,
    algorithm: str,
    fair: PoolDistribution,
    panels: int | None = None,
    gamma: float = DEFAULT_GAMMA,
    min_type_size: int | None = None,
) -> Commitment:
    """The commitment of a fair algorithm's distribution computed on ``loaded``, with its
    rounding to a uniform lottery over ``panels`` = M panels when asked (exit 3 when that
    lottery would leave out someone whose probability is at least 1/M)."""
    instance = loaded.instance
    distribution = distribution_document(fair)
    ids = instance.pool.ids
    probability = fair.person_probability
    parameters: dict[str, Any] = {"path": distribution["path"]}
    if panels is not None:
        parameters["panels"] = panels
    if algorithm == "goldilocks":
        parameters["gamma"] = gamma
    if fair.diversity is not None:
        parameters["diversity_within"] = fair.diversity.within
    document = commitment_record(
        instance,
        loaded.files,
        algorithm,
        parameters,
        distribution=distribution,
        probabilities={ids[i]: float(probability[i]) for i in range(instance.pool.size)},
        lottery=None if panels is None else lottery_document(fair, panels),
    )
    if min_type_size is None:
        return Commitment(loaded, algorithm, document, fair)
    refuse_publish_types(loaded, algorithm, fair.by_type, panels, min_type_size)
    pseudonyms = loaded.pool_file.pseudonyms
    assert pseudonyms is not None  # refuse_publish_types says so
    document, table = types_document(document, pseudonyms.key, min_type_size)
    return Commitment(loaded, algorithm, document, fair, table)


def lottery_document(fair: PoolDistribution, m: int) -> dict[str, Any]:
    """The uniform lottery over m panels (docs/transparent.md), published with the commitment.

    Raises LotteryCoverageError (exit 3) when some volunteers whose probability is at least 1/m are
    on none of the m panels: the lottery would take away a chance the distribution gives them."""
    dist = fair.distribution
    lottery = round_to_uniform(
        fair.units, dist.panels, dist.weights, m, probability=dist.unit_probability
    )
    members = assign_members(lottery, fair.members_of_unit)
    ids = fair.instance.pool.ids
    if lottery.uncovered:
        raise LotteryCoverageError([Problem(_left_out_message(fair, lottery, members))])
    return {
        "m": m,
        "method": lottery.method,
        "max_change": lottery.max_change,
        "lower_bound": lottery.lower_bound,
        "distribution_panels": lottery.from_distribution,
        "panels": [[ids[int(p)] for p in panel] for panel in members],
    }


def _left_out_message(
    fair: PoolDistribution, lottery: UniformLottery, members: list[np.ndarray]
) -> str:
    """Which volunteers a lottery of m panels leaves out although their probability is at least
    1/m, and what to do about it."""
    m = lottery.m
    appearances = np.bincount(
        np.concatenate([*members, np.zeros(0, dtype=np.int64)]), minlength=fair.instance.pool.size
    )
    probability = fair.person_probability
    ids = fair.instance.pool.ids
    left_out = [
        ids[i]
        for i in range(fair.instance.pool.size)
        if appearances[i] == 0 and needs_a_panel(float(probability[i]), m)
    ]
    shown = ", ".join(left_out[:20])
    if len(left_out) > 20:
        shown = Message(N_("{shown} and {more} more"), shown=shown, more=len(left_out) - 20)
    who = (
        Message(N_("1 volunteer"))
        if len(left_out) == 1
        else Message(N_("{count} volunteers"), count=len(left_out))
    )
    template = (
        N_(
            "--panels {m}: there is no lottery of {m} panels that puts everyone whose selection "
            "probability is at least 1/{m} on one of them: {who} would be on none ({shown}), "
            "which would take away their chance. Use a larger --panels, e.g. {larger}."
        )
        if lottery.lower_bound is None
        else N_(
            "--panels {m}: the search found no lottery of {m} panels that puts everyone whose "
            "selection probability is at least 1/{m} on one of them: {who} would be on none "
            "({shown}), which would take away their chance. Use a larger --panels, e.g. {larger}."
        )
    )
    return Message(template, m=m, who=who, shown=shown, larger=10 * m)


def draw_selection(commitment: Commitment, seed: SeedLike | str) -> Selection:
    """Draw the panel from the commitment with the seed (sortition.record.draw) and build the
    record; a seed given as text is ``--seed TEXT``."""
    seed = as_seed(seed)
    draw = derive_draw(commitment.document, seed.value)
    record = selection_record(
        commitment.document, commitment.sha256, seed, draw.as_record(), draw.panel
    )
    position = {person: i for i, person in enumerate(commitment.loaded.instance.pool.ids)}
    person = (lambda name: name) if commitment.types is None else commitment.types.person
    panel = np.array(sorted(position[person(name)] for name in draw.panel), dtype=np.int64)
    return Selection(
        commitment.loaded, commitment.algorithm, seed, panel, record, draw, commitment.fair
    )


def select_panel(
    loaded: LoadedInput,
    algorithm: str,
    seed: SeedLike | str,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    *,
    by_type: bool = True,
    progress: Progress | None = None,
    time_limit: float | None = None,
    panels: int | None = None,
    gamma: float = DEFAULT_GAMMA,
    min_type_size: int | None = None,
    diversity_within: float | None = None,
) -> Selection:
    """The one-step path: commit, then draw with the seed (``prepare_commitment``,
    ``draw_selection``); ``min_type_size`` publishes type counts (``--publish-types``)."""
    seed = as_seed(seed)  # a seed that is not valid text is refused before any work
    commitment = prepare_commitment(
        loaded,
        algorithm,
        max_attempts,
        by_type=by_type,
        progress=progress,
        time_limit=time_limit,
        panels=panels,
        gamma=gamma,
        min_type_size=min_type_size,
        diversity_within=diversity_within,
    )
    return draw_selection(commitment, seed)


def write_selection(selection: Selection, out: PathLike, force: bool = False) -> list[Path]:
    """Write selected.csv, remaining.csv (original rows and columns, original order) and
    record.json, and for the fair algorithms probabilities.csv and distribution.json, all at
    once."""
    out = Path(out)
    names = ["selected.csv", "remaining.csv"]
    with atomic_output_dir(out, force, selection.loaded.sources) as staging:
        write_pool_split(staging, selection.loaded.pool_file, selection.panel)
        if selection.fair is not None and selection.distribution is not None:
            write_csv(
                staging / "probabilities.csv",
                ["id", "probability"],
                probability_rows(selection.fair),
            )
            write_json(staging / "distribution.json", selection.distribution)
            names += ["probabilities.csv", "distribution.json"]
        names += write_lottery(staging, selection.record)
        write_json(staging / "record.json", selection.record)
        names.append("record.json")
        names += write_pseudonym_table(staging, selection.loaded.pool_file)
    return [out / name for name in names]


def write_lottery(folder: Path, document: dict[str, Any]) -> list[str]:
    """lottery.csv: the M panels of a record or commitment, numbered 1..M, ids separated by
    spaces (for publication); the names written (none without a lottery)."""
    lottery = document.get("lottery")
    if lottery is None:
        return []
    rows = [(str(n), " ".join(p)) for n, p in enumerate(lottery["panels"], start=1)]
    write_csv(folder / "lottery.csv", ["panel", "ids"], rows)
    return ["lottery.csv"]


def write_commitment(commitment: Commitment, out: PathLike, force: bool = False) -> Path:
    """Write ``commitment.json``, whose SHA-256 (``commitment.sha256``) is what to publish, the
    M panels (``lottery.csv``) when there are any and the private pseudonym table
    (``private/pseudonyms.csv``) when the ids were pseudonymised."""
    out = Path(out)
    with atomic_output_dir(out, force) as staging:
        (staging / "commitment.json").write_text(
            commitment_text(commitment.document), encoding="utf-8"
        )
        write_lottery(staging, commitment.document)
        write_pseudonym_table(staging, commitment.loaded.pool_file)
    return out / "commitment.json"


@dataclass(frozen=True)
class CommittedDraw:
    """A draw from a published commitment file; ``pool_file`` when the pool file was given."""

    record: dict[str, Any]
    draw: Draw
    pool_file: PoolFile | None
    types: TypeTable | None = None  # a commitment with --publish-types, read with the pool file


def read_commitment(
    path: PathLike, expect: str | None = None, kind: str = "selection"
) -> dict[str, Any]:
    """commitment.json, checked to be exactly what ``commit`` wrote: with ``expect`` (the SHA-256
    the organiser published) its bytes must hash to it; in every case its text must be canonical
    and its content must hold together (``verify.check_commitment``). With ``kind`` =
    "replacement", the commitment of a replacement draw that ``replace --commit-only`` wrote
    (``verify.replacement.check_replacement_commitment``)."""
    path = Path(path)
    require_file(path)
    raw = path.read_bytes()
    if expect is not None:
        expected = parse_sha256(expect, "--expect")
        actual = hashlib.sha256(raw).hexdigest()
        if actual != expected:
            raise InputError(
                [
                    problem(
                        N_(
                            "its SHA-256 is {actual}, not the published {expected}: this is not "
                            "the commitment that was published, so no draw is made from it"
                        ),
                        file=path.name,
                        actual=actual,
                        expected=expected,
                    )
                ]
            )
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(
            [problem(N_("is not a JSON commitment ({reason})"), file=path.name, reason=error)]
        ) from None
    if not isinstance(document, dict) or document.get("kind") != kind or "seed" in document:
        template = (
            N_("is not a commitment written by 'sortition commit'")
            if kind == "selection"
            else N_("is not a commitment written by 'sortition replace --commit-only'")
        )
        raise InputError([problem(template, file=path.name)])
    reader = RecordReader(path.name)
    versions = READABLE_VERSIONS if kind == "selection" else COMMITTED_REPLACEMENT_VERSIONS
    if reader.get(document, "version") not in versions:
        known = ", ".join(str(v) for v in versions)
        raise reader.fail(
            Message(
                N_("unknown version {version} (known: {known})"),
                version=repr(document["version"]),
                known=known,
            )
        )
    reader.mapping(document, "tool")
    if commitment_text(document).encode("utf-8") != raw:
        raise InputError(
            [
                problem(
                    N_(
                        "has been changed since 'sortition commit' wrote it (its bytes are not "
                        "the canonical text of its content), so its published SHA-256 no longer "
                        "applies"
                    ),
                    file=path.name,
                )
            ]
        )
    check = check_commitment if kind == "selection" else check_replacement_commitment
    failed = [item for item in check(document, path.name) if not item.ok]
    if failed:
        raise InputError(
            [
                problem(
                    N_("does not hold together: {name}: {detail}"),
                    file=path.name,
                    name=item.name if isinstance(item.name, Message) else Message(item.name),
                    detail=item.detail,
                )
                for item in failed
            ]
        )
    return document


def draw_committed(
    commitment_path: PathLike,
    seed: SeedLike | str,
    pool_path: PathLike | None = None,
    expect: str | None = None,
    pseudonym_key: PseudonymKey | None = None,
) -> CommittedDraw:
    """Draw from a commitment file with a seed that did not exist when it was published;
    ``expect`` is the SHA-256 published for it (``read_commitment``). With ``pool_path`` (the
    pool file, checked against the commitment's digest) the result can also write selected.csv
    and remaining.csv; when the commitment names people by keyed pseudonyms, reading the pool
    file again needs the same ``pseudonym_key``."""
    commitment_path, seed = Path(commitment_path), as_seed(seed)
    pool_path = None if pool_path is None else Path(pool_path)
    document = read_commitment(commitment_path, expect)
    sha = hashlib.sha256(commitment_path.read_bytes()).hexdigest()
    draw = derive_draw(document, seed.value, commitment_path.name)
    record = selection_record(document, sha, seed, draw.as_record(), draw.panel)
    pool_file = None
    if pool_path is not None and publish_types_of(document) is not None:
        pool_file, table = _read_typed_pool(
            document, commitment_path.name, pool_path, pseudonym_key
        )
        return CommittedDraw(record, draw, pool_file, table)
    if pool_path is not None:
        instance = record_instance(document, commitment_path.name)
        inputs = document["inputs"]["pool"]
        id_column, household_columns = pool_columns(document, commitment_path.name)
        check_pseudonym_key(document, pseudonym_key, commitment_path.name)
        pool_file = read_pool(
            pool_path,
            instance.quotas,
            id_column,
            household_columns,
            allow_empty_household(document, commitment_path.name),
            pseudonym_key,
        )
        digest = pool_digest(pool_file.pool, instance.quotas)
        if digest != inputs["digest"]:
            raise InputError(
                [
                    problem(
                        N_(
                            "is not the pool the commitment was made from (canonical digest "
                            "{digest}, the commitment says {stated})"
                        ),
                        file=pool_path.name,
                        digest=digest,
                        stated=inputs["digest"],
                    )
                ]
            )
    return CommittedDraw(record, draw, pool_file)


def _read_typed_pool(
    document: dict[str, Any], name: str, pool_path: Path, key: PseudonymKey | None
) -> tuple[PoolFile, TypeTable]:
    """The pool file of a commitment that publishes type counts, read with the key, and its type
    table (InputError unless the table is the commitment's, withheld types' digests included)."""
    quotas = embedded_quotas(document, name)
    id_column, household_columns = pool_columns(document, name)
    check_pseudonym_key(document, key, name)
    assert key is not None  # check_pseudonym_key: a commitment with types has pseudonyms
    pool_file = read_pool(
        pool_path,
        quotas,
        id_column,
        household_columns,
        allow_empty_household(document, name),
        key,
    )
    settings = publish_types_of(document) or {}
    table = type_table(
        pseudonymised_pool(pool_file.pool, quotas), key, int(settings.get("min_type_size", 1))
    )
    stated = document["inputs"]["pool"]["digest"]
    if table.digest != stated:
        raise InputError(
            [
                problem(
                    N_(
                        "is not the pool the commitment was made from (its type table's digest "
                        "is {digest}, the commitment says {stated})"
                    ),
                    file=pool_path.name,
                    digest=table.digest,
                    stated=stated,
                )
            ]
        )
    return pool_file, table


def write_committed_draw(result: CommittedDraw, out: PathLike, force: bool = False) -> list[Path]:
    """record.json, and selected.csv/remaining.csv when the pool file was given."""
    out = Path(out)
    names = []
    with atomic_output_dir(out, force) as staging:
        if result.pool_file is not None:
            pool = result.pool_file.pool
            position = {person: i for i, person in enumerate(pool.ids)}
            person = (lambda name: name) if result.types is None else result.types.person
            panel = np.array(sorted(position[person(p)] for p in result.draw.panel), dtype=np.int64)
            write_pool_split(staging, result.pool_file, panel)
            names += ["selected.csv", "remaining.csv"]
            names += write_pseudonym_table(staging, result.pool_file)
        write_json(staging / "record.json", result.record)
        names.append("record.json")
    return [out / name for name in names]
