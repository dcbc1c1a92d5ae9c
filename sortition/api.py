"""The public Python API: every step a command of the ``sortition`` tool takes, as one function.

``import sortition`` gives these names (lazily: ``sortition/__init__.py``, whose ``__all__`` lists
them, loads this module on the first use of one of them); docs/api.md documents them with a
worked example that the tests run. Most are the room's own service functions, re-exported
(``X as X``) under the name a user looks for:

Stage 2, a panel from the volunteers::

    read_quotas / read_pool  ->  load  ->  check  ->  commit  ->  draw   ->  write_selection
                                            \\--------- select (commit + draw) ---/
    draw_committed (a published commitment.json, with a seed that did not exist before it)
    verify_record (any record: the selection or the invitation record)
    run_audit (every volunteer's probability under several algorithms)  ->  write_audit

Stage 1, the invitation letters: ``invite``  ->  ``write_invitations``.

Paths may be ``str`` or ``os.PathLike``; a seed may be a ``Seed`` (``seed_from_text``,
``seed_from_dice``, ``seed_from_beacon``, ``seed_from_reveals``) or plain text, which is
``seed_from_text(text)``. Problems a user must fix are raised as ``SortitionError`` subclasses
with their place (file, row, column): ``InputError`` (bad input), ``InfeasibleError`` (the quotas
cannot be met, with ``advice``), ``TimeLimitError``. Nothing here prints, reads the environment
or uses the clock for a result: the same inputs and seed give the same outputs.

The subpackages ``sortition.verify`` and ``sortition.audit`` are rooms of the library, so their
functions are called ``verify_record`` and ``run_audit`` (a function named like a subpackage
would be replaced by the subpackage as soon as one of its modules is imported).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path

from sortition.audit.metrics import AlgorithmAudit as AlgorithmAudit
from sortition.audit.metrics import Audit as Audit
from sortition.audit.metrics import TimedOut as TimedOut
from sortition.audit.service import AUDIT_ALGORITHMS as AUDIT_ALGORITHMS
from sortition.audit.service import DEFAULT_ALGORITHMS
from sortition.audit.service import DEFAULT_DRAWS as DEFAULT_DRAWS
from sortition.audit.service import run_audit as run_audit
from sortition.audit.service import write_audit as _write_audit
from sortition.dropouts.alternates_service import AlternatesResult as AlternatesResult
from sortition.dropouts.alternates_service import check_alternates as check_alternates
from sortition.dropouts.alternates_service import choose_alternates
from sortition.dropouts.alternates_service import panel_quotas as panel_quotas
from sortition.dropouts.alternates_service import write_alternates as write_alternates
from sortition.dropouts.ids import IdList as IdList
from sortition.dropouts.ids import read_id_file as read_id_file
from sortition.dropouts.models import fit_product_model as fit_product_model
from sortition.dropouts.models import per_value_model as per_value_model
from sortition.dropouts.models import uniform_model as uniform_model
from sortition.dropouts.service import Replacement as Replacement
from sortition.dropouts.service import ReplacementCommitment as ReplacementCommitment
from sortition.dropouts.service import check_panel_pool as check_panel_pool
from sortition.dropouts.service import check_round as check_round
from sortition.dropouts.service import commit_replacement as commit_replacement
from sortition.dropouts.service import draw_replacement as draw_replacement
from sortition.dropouts.service import read_replacement_commitment as read_replacement_commitment
from sortition.dropouts.service import replace_dropouts
from sortition.dropouts.service import write_replacement as write_replacement
from sortition.dropouts.service import (
    write_replacement_commitment as write_replacement_commitment,
)
from sortition.engine.dropout_model import DropoutModel as DropoutModel
from sortition.engine.feasibility import DEFAULT_TIME_LIMIT
from sortition.engine.objectives import PoolDistribution as PoolDistribution
from sortition.errors import Advice as Advice
from sortition.errors import InfeasibleError as InfeasibleError
from sortition.errors import InputError as InputError
from sortition.errors import LotteryCoverageError as LotteryCoverageError
from sortition.errors import Problem as Problem
from sortition.errors import SortitionError as SortitionError
from sortition.errors import TimeLimitError as TimeLimitError
from sortition.errors import split_advice as split_advice
from sortition.groups.problem import SeatingRulesError as SeatingRulesError
from sortition.groups.service import GroupsResult as GroupsResult
from sortition.groups.service import check_seating as check_seating
from sortition.groups.service import seat_panel as seat_panel
from sortition.groups.service import write_groups as write_groups
from sortition.invitations.service import ENGINES as ENGINES
from sortition.invitations.service import InviteRequest, draw_invitations
from sortition.invitations.service import InviteResult as InviteResult
from sortition.invitations.service import write_invitations as write_invitations
from sortition.io.outputs import csv_byte_order_mark as csv_byte_order_mark
from sortition.io.pool import PoolFile as PoolFile
from sortition.io.pool import read_pool as read_pool
from sortition.io.quotas import QuotaFile as QuotaFile
from sortition.io.quotas import read_quota_file
from sortition.io.tables import PathLike
from sortition.io.tables import starts_with_bom as starts_with_bom
from sortition.model import Instance as Instance
from sortition.model import Pool as Pool
from sortition.model import Quotas as Quotas
from sortition.model import ValueQuota as ValueQuota
from sortition.privacy.keys import PseudonymKey as PseudonymKey
from sortition.privacy.keys import new_key as new_key
from sortition.privacy.keys import read_key as read_key
from sortition.privacy.personal import personal_ids as personal_ids
from sortition.progress import Progress
from sortition.record.build import SeedLike, as_seed
from sortition.record.types import DEFAULT_MIN_TYPE_SIZE as DEFAULT_MIN_TYPE_SIZE
from sortition.seeds import Seed as Seed
from sortition.seeds import seed_from_beacon as seed_from_beacon
from sortition.seeds import seed_from_dice as seed_from_dice
from sortition.seeds import seed_from_reveals as seed_from_reveals
from sortition.seeds import seed_from_text as seed_from_text
from sortition.selection.feasibility import Diagnosis as Diagnosis
from sortition.selection.feasibility import require_feasible
from sortition.selection.service import ALGORITHMS as ALGORITHMS
from sortition.selection.service import DEFAULT_ALGORITHM as DEFAULT_ALGORITHM
from sortition.selection.service import (
    DIVERSITY_WITHIN_ALGORITHMS as DIVERSITY_WITHIN_ALGORITHMS,
)
from sortition.selection.service import Commitment as Commitment
from sortition.selection.service import CommittedDraw as CommittedDraw
from sortition.selection.service import LoadedInput as LoadedInput
from sortition.selection.service import Selection as Selection
from sortition.selection.service import draw_committed as draw_committed
from sortition.selection.service import draw_selection, load_input, prepare_commitment, select_panel
from sortition.selection.service import write_commitment as write_commitment
from sortition.selection.service import write_committed_draw as write_committed_draw
from sortition.selection.service import write_selection as write_selection
from sortition.verify.items import CheckItem as CheckItem
from sortition.verify.items import VerifyReport as VerifyReport
from sortition.verify.service import verify_record as verify_record

# The service functions under the names of the commands (docs/api.md gives their signatures).
load = load_input
commit = prepare_commitment
draw = draw_selection
select = select_panel
replace = replace_dropouts
alternates = choose_alternates
DEFAULT_AUDIT_ALGORITHMS = DEFAULT_ALGORITHMS


def read_quotas(path: PathLike) -> QuotaFile:
    """Read and validate a quota file (CSV, .xlsx or .parquet; README "Inputs"): the canonical
    ``Quotas`` (``.quotas``, rows sorted by feature and value) and the ``.warnings`` to show the
    organiser (columns ignored). Every problem of the file is reported in one ``InputError``."""
    return read_quota_file(path)


def check(loaded: LoadedInput, *, time_limit: float = DEFAULT_TIME_LIMIT) -> Diagnosis:
    """Decide whether any panel of k meets every quota (and the household rule).

    Returns the ``Diagnosis`` (with ``example_panel``, one such panel) when one does; raises
    ``InfeasibleError`` when none does, whose ``problems`` say why and whose ``advice`` gives the
    smallest change of the quotas that makes a panel possible; raises ``TimeLimitError`` when
    ``time_limit`` seconds (for the whole check) do not decide it.
    """
    return require_feasible(loaded.instance, time_limit)


def invite(
    registry: PathLike,
    letters: int,
    seed: SeedLike | str,
    *,
    id_column: str = "id",
    household_columns: Sequence[str] = (),
    allow_empty_household: bool = False,
    stratify_by: str | None = None,
    weights: Mapping[str, Fraction] | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> InviteResult:
    """The invitation lottery (docs/invitations.md): who of the registry (CSV or Parquet) gets one
    of ``letters`` letters.

    Each household (``household_columns``; each person without them) is ranked by SHA-256 of the
    seed and its key, and within each stratum of ``stratify_by`` the smallest ranks get the
    letters, shared among strata in proportion to households × ``weights`` (stratum value ->
    weight). ``engine="dask"`` hashes the registry on a Dask cluster (``scheduler``) with the
    same result. ``progress`` hears a ``RowsRead`` event after each batch of rows.
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
    return draw_invitations(request, as_seed(seed), progress)


def write_audit(audit: Audit, out: PathLike, force: bool = False) -> list[Path]:
    """Write metrics.json, inputs.json, probabilities.csv, the plots and report.html of an audit
    (docs/audit.md), all at once; returns the paths written."""
    draws = next((r.draws for r in audit.results if r.draws is not None), DEFAULT_DRAWS)
    return _write_audit(audit, out, draws, force)
