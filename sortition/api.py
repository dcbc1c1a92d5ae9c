"""The public Python API: every step a command of the ``sortition`` tool takes, as one function.

``import sortition`` gives these names (lazily: ``sortition/__init__.py`` loads this module on the
first use of one of them). docs/api.md documents them with a worked example that the tests run.

Stage 2, a panel from the volunteers::

    read_quotas / read_pool  ->  load  ->  check  ->  commit  ->  draw   ->  write_selection
                                                  \\-> select (commit + draw) -/
    draw_committed (a published commitment.json, with a seed that did not exist before)
    verify_record (any record: the selection or the invitation record)
    run_audit (every volunteer's probability under several algorithms)  ->  write_audit

Stage 1, the invitation letters: ``invite``  ->  ``write_invitations``.

Paths may be given as ``str`` or ``os.PathLike``; a seed as a :class:`Seed` (``seed_from_text``,
``seed_from_dice``, ``seed_from_beacon``, ``seed_from_reveals``) or as plain text, which is
``seed_from_text(text)``. Every function raises a :class:`SortitionError` subclass with the
problems and their place (file, row, column) for what a user must fix: :class:`InputError` for bad
input, :class:`InfeasibleError` when the quotas cannot be met (with ``advice``),
:class:`TimeLimitError` when a time limit stopped the work. Nothing here prints, reads the
environment or uses a clock for results: the same inputs and seed give the same outputs.

The subpackages ``sortition.verify`` and ``sortition.audit`` are rooms of the library, so their
functions are called ``verify_record`` and ``run_audit`` here (a function named like a subpackage
would be replaced by the subpackage as soon as one of its modules is imported).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path

from sortition.audit import service as _audit
from sortition.audit.metrics import AlgorithmAudit, Audit, TimedOut
from sortition.audit.sampling import ProgressCallback
from sortition.audit.service import AUDIT_ALGORITHMS, DEFAULT_ALGORITHMS, DEFAULT_DRAWS
from sortition.engine.legacy import DEFAULT_MAX_ATTEMPTS
from sortition.engine.objectives import PoolDistribution, ProgressFn
from sortition.engine.oracle import DEFAULT_TIME_LIMIT
from sortition.errors import (
    InfeasibleError,
    InputError,
    LotteryCoverageError,
    Problem,
    SortitionError,
    TimeLimitError,
)
from sortition.invitations import service as _invitations
from sortition.invitations.service import ENGINES, InviteRequest, InviteResult
from sortition.io.pool import PoolFile
from sortition.io.pool import read_pool as _read_pool
from sortition.io.quotas import QuotaFile, read_quota_file
from sortition.model import Instance, Pool, Quotas, ValueQuota
from sortition.seeds import (
    Seed,
    seed_from_beacon,
    seed_from_dice,
    seed_from_reveals,
    seed_from_text,
)
from sortition.selection import service as _selection
from sortition.selection.feasibility import Diagnosis, require_feasible
from sortition.selection.service import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    Commitment,
    CommittedDraw,
    LoadedInput,
    Selection,
)
from sortition.verify.items import CheckItem, VerifyReport
from sortition.verify.service import verify_record as _verify_record

__all__ = [
    "ALGORITHMS",
    "AUDIT_ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "DEFAULT_AUDIT_ALGORITHMS",
    "DEFAULT_DRAWS",
    "ENGINES",
    "AlgorithmAudit",
    "Audit",
    "CheckItem",
    "Commitment",
    "CommittedDraw",
    "Diagnosis",
    "InfeasibleError",
    "InputError",
    "Instance",
    "InviteResult",
    "LoadedInput",
    "LotteryCoverageError",
    "Pool",
    "PoolDistribution",
    "PoolFile",
    "Problem",
    "QuotaFile",
    "Quotas",
    "Seed",
    "Selection",
    "SortitionError",
    "TimeLimitError",
    "TimedOut",
    "ValueQuota",
    "VerifyReport",
    "check",
    "commit",
    "draw",
    "draw_committed",
    "invite",
    "load",
    "read_pool",
    "read_quotas",
    "run_audit",
    "seed_from_beacon",
    "seed_from_dice",
    "seed_from_reveals",
    "seed_from_text",
    "select",
    "verify_record",
    "write_audit",
    "write_commitment",
    "write_committed_draw",
    "write_invitations",
    "write_selection",
]

PathLike = str | os.PathLike[str]
SeedArgument = Seed | str
DEFAULT_AUDIT_ALGORITHMS = DEFAULT_ALGORITHMS


def _seed(seed: SeedArgument) -> Seed:
    return seed_from_text(seed) if isinstance(seed, str) else seed


def _optional_path(path: PathLike | None) -> Path | None:
    return None if path is None else Path(path)


# --------------------------------------------------------------------------- reading the inputs


def read_quotas(path: PathLike) -> QuotaFile:
    """Read and validate a quota file (CSV, .xlsx or .parquet; docs: README "Inputs").

    Returns the canonical :class:`Quotas` (``.quotas``, rows sorted by feature and value) and the
    ``.warnings`` to show the organiser (columns ignored). Every structural problem of the file is
    reported at once, in one :class:`InputError`.
    """
    return read_quota_file(Path(path))


def read_pool(
    path: PathLike,
    quotas: Quotas,
    *,
    id_column: str | None = None,
    household_columns: Sequence[str] = (),
    allow_empty_household: bool = False,
) -> PoolFile:
    """Read and validate a pool file against the quotas' features.

    ``id_column`` names the column of ids (default ``id``, else ``nationbuilder_id``, else row
    numbers 0, 1, ...). ``household_columns`` together identify a household (cells compared after
    NFKC normalisation, case folding and collapsing whitespace; docs/households.md); an empty
    household cell is an :class:`InputError` unless ``allow_empty_household``, which makes that
    person a household of their own. ``.pool`` is the canonical :class:`Pool`; ``.table`` keeps
    the file's rows and columns to write them back unchanged.
    """
    return _read_pool(Path(path), quotas, id_column, household_columns, allow_empty_household)


def load(
    pool: PathLike,
    quotas: PathLike,
    k: int,
    *,
    id_column: str | None = None,
    household_columns: Sequence[str] = (),
    allow_empty_household: bool = False,
) -> LoadedInput:
    """Both files of a selection, read and validated, with the panel size ``k`` (at least 1).

    The result carries the :class:`Instance` (``.instance``: pool, quotas, k), the raw SHA-256 of
    both files that the record publishes, and the ``.warnings`` of both files.
    """
    return _selection.load_input(
        Path(pool), Path(quotas), k, id_column, tuple(household_columns), allow_empty_household
    )


# --------------------------------------------------------------------------- stage 2


def check(loaded: LoadedInput, *, time_limit: float = DEFAULT_TIME_LIMIT) -> Diagnosis:
    """Decide whether any panel of k meets every quota (and the household rule).

    Returns the :class:`Diagnosis` (with ``example_panel``, one such panel) when one does; raises
    :class:`InfeasibleError` when none does, whose ``problems`` say why and whose ``advice`` gives
    the smallest change of the quotas that makes a panel possible; raises :class:`TimeLimitError`
    when ``time_limit`` seconds (for the whole check) do not decide it.
    """
    return require_feasible(loaded.instance, time_limit)


def commit(
    loaded: LoadedInput,
    algorithm: str = DEFAULT_ALGORITHM,
    *,
    panels: int | None = None,
    time_limit: float | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    by_type: bool = True,
    progress: ProgressFn | None = None,
) -> Commitment:
    """Everything fixed before the seed exists, after checking the quotas (as :func:`check`).

    ``algorithm`` is one of :data:`ALGORITHMS`: ``leximin`` (the default), ``maximin``, ``nash``
    compute the distribution over panels the draw will use; ``legacy`` fixes its parameters
    (``max_attempts``). ``panels`` = M rounds the distribution to a uniform lottery over M panels
    (docs/transparent.md; :class:`LotteryCoverageError` when it would leave out someone whose
    probability is at least 1/M). ``time_limit`` seconds bound the whole computation
    (:class:`TimeLimitError` past them). ``by_type=False`` computes over people instead of types
    (for cross-checks). ``progress`` receives the engine's progress events.

    ``commitment.sha256`` is the value to publish before the seed exists; ``write_commitment``
    writes the file it is the hash of.
    """
    return _selection.prepare_commitment(
        loaded,
        algorithm,
        max_attempts,
        by_type=by_type,
        progress=progress,
        time_limit=time_limit,
        panels=panels,
    )


def draw(commitment: Commitment, seed: SeedArgument) -> Selection:
    """Draw the panel from the commitment with the seed, and build the selection record.

    The panel depends only on the commitment's data and the seed (docs/randomness.md), so
    ``draw_committed`` and ``verify_record`` derive the same one.
    """
    return _selection.draw_selection(commitment, _seed(seed))


def select(
    loaded: LoadedInput,
    seed: SeedArgument,
    algorithm: str = DEFAULT_ALGORITHM,
    *,
    panels: int | None = None,
    time_limit: float | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    by_type: bool = True,
    progress: ProgressFn | None = None,
) -> Selection:
    """``draw(commit(loaded, algorithm, ...), seed)``: the panel (``.panel_ids``), its record
    (``.record``) and, for the fair algorithms, the distribution and probabilities (``.fair``)."""
    return _selection.select_panel(
        loaded,
        algorithm,
        _seed(seed),
        max_attempts,
        by_type=by_type,
        progress=progress,
        time_limit=time_limit,
        panels=panels,
    )


def draw_committed(
    commitment: PathLike,
    seed: SeedArgument,
    *,
    pool: PathLike | None = None,
    expect: str | None = None,
) -> CommittedDraw:
    """Draw from a published ``commitment.json`` with a seed that did not exist when it was
    published.

    The file must be exactly what ``write_commitment`` wrote (canonical text, content that holds
    together) and, with ``expect``, hash to that published SHA-256; else :class:`InputError` and no
    draw. With ``pool`` (the pool file, checked against the commitment's digest) the result can
    also write selected.csv and remaining.csv.
    """
    return _selection.draw_committed(Path(commitment), _seed(seed), _optional_path(pool), expect)


def verify_record(
    record: PathLike,
    *,
    pool: PathLike | None = None,
    quotas: PathLike | None = None,
    registry: PathLike | None = None,
    recompute: bool = False,
    id_column: str | None = None,
    expect: str | None = None,
) -> VerifyReport:
    """Check a published record, one :class:`CheckItem` per item; ``report.ok`` when all match.

    A selection record takes ``pool`` and ``quotas`` (checked against its digests), ``recompute``
    (re-run the algorithm and compare every probability within 1e-6), ``id_column`` and ``expect``
    (the commitment SHA-256 published before the draw). An invitation record takes ``registry``,
    from which every invitation is re-derived. An option of the other kind of record is an
    :class:`InputError`, never ignored.
    """
    return _verify_record(
        Path(record),
        _optional_path(pool),
        _optional_path(quotas),
        recompute=recompute,
        id_column=id_column,
        registry_path=_optional_path(registry),
        expect=expect,
    )


# --------------------------------------------------------------------------- the audit


def run_audit(
    loaded: LoadedInput,
    seed: SeedArgument,
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
    *,
    draws: int = DEFAULT_DRAWS,
    workers: int = 1,
    time_limit: float | None = None,
    by_type: bool = True,
    sample_progress: Callable[[str, int], ProgressCallback] | None = None,
    fair_progress: Callable[[str], ProgressFn] | None = None,
) -> Audit:
    """Every volunteer's selection probability under each algorithm (docs/audit.md).

    Exact for the fair algorithms; for a sampler (``legacy``) estimated from ``draws`` seeded
    draws, twice (the second sample bounds the smallest probability), on ``workers`` processes
    (the result does not depend on their number). ``time_limit`` applies to each fair algorithm:
    one that runs out of time is listed in ``audit.timed_out`` and the others are audited
    (:class:`TimeLimitError` only when none finished). The progress factories make the callbacks
    of each algorithm.
    """
    return _audit.run_audit(
        loaded,
        tuple(algorithms),
        _seed(seed).value,
        draws=draws,
        workers=workers,
        time_limit=time_limit,
        by_type=by_type,
        sample_progress=sample_progress,
        fair_progress=fair_progress,
    )


# --------------------------------------------------------------------------- stage 1


def invite(
    registry: PathLike,
    letters: int,
    seed: SeedArgument,
    *,
    id_column: str = "id",
    household_columns: Sequence[str] = (),
    allow_empty_household: bool = False,
    stratify_by: str | None = None,
    weights: Mapping[str, Fraction] | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> InviteResult:
    """The invitation lottery (docs/invitations.md): who of the registry (CSV or Parquet) gets one
    of ``letters`` letters.

    Each household (``household_columns``; each person without them) is ranked by SHA-256 of the
    seed and its key, and within each stratum of ``stratify_by`` the smallest ranks get the
    letters, shared among strata in proportion to households × ``weights`` (stratum value ->
    weight). ``engine="dask"`` hashes the registry on a Dask cluster (``scheduler``) with the
    same result. ``progress`` receives the number of rows just read.
    """
    request = InviteRequest(
        Path(registry),
        letters,
        id_column,
        tuple(household_columns),
        stratify_by,
        None if weights is None else dict(weights),
        engine,
        scheduler,
        allow_empty_household,
    )
    return _invitations.draw_invitations(request, _seed(seed), progress)


# --------------------------------------------------------------------------- writing the outputs


def write_selection(selection: Selection, out: PathLike, *, force: bool = False) -> list[Path]:
    """Write the folder ``select`` writes: selected.csv and remaining.csv (the pool's rows and
    columns, in its order), record.json, and for the fair algorithms probabilities.csv and
    distribution.json (lottery.csv with ``panels``), all at once.

    The folder must be new or empty; ``force`` replaces a folder that sortition wrote, never one
    holding the inputs or anything else. Returns the paths written.
    """
    return _selection.write_selection(selection, Path(out), force)


def write_commitment(commitment: Commitment, out: PathLike, *, force: bool = False) -> Path:
    """Write ``out/commitment.json`` (whose SHA-256 is ``commitment.sha256``) and, with
    ``panels``, lottery.csv; returns the path of commitment.json."""
    return _selection.write_commitment(commitment, Path(out), force)


def write_committed_draw(
    result: CommittedDraw, out: PathLike, *, force: bool = False
) -> list[Path]:
    """Write record.json of a ``draw_committed``, and selected.csv and remaining.csv when the pool
    file was given; returns the paths written."""
    return _selection.write_committed_draw(result, Path(out), force)


def write_audit(audit: Audit, out: PathLike, *, force: bool = False) -> list[Path]:
    """Write metrics.json, inputs.json, probabilities.csv, the plots and report.html of an audit
    (docs/audit.md), all at once; returns the paths written."""
    draws = next((r.draws for r in audit.results if r.draws is not None), DEFAULT_DRAWS)
    return _audit.write_audit(audit, Path(out), draws, force)


def write_invitations(result: InviteResult, out: PathLike, *, force: bool = False) -> list[Path]:
    """Write invitations.csv (the invited rows and their rank), allocation.csv and record.json,
    all at once; returns the paths written."""
    return _invitations.write_invitations(result, Path(out), force)
