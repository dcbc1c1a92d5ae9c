"""sortition: draw citizens' assemblies by lot, fairly and verifiably.

The public API (``sortition.select``, ``sortition.verify_record`` ...; docs/api.md) lives in
``sortition.api`` and is loaded on first use (PEP 562), so that ``import sortition`` stays cheap:
the console script imports ``sortition.cancel`` before anything else to handle Ctrl-C during
start-up, and that must not wait for pandas, NumPy or OR-Tools.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:  # what editors and mypy see; at run time __getattr__ loads the same names
    from sortition.api import (
        ALGORITHMS,
        AUDIT_ALGORITHMS,
        DEFAULT_ALGORITHM,
        DEFAULT_AUDIT_ALGORITHMS,
        DEFAULT_DRAWS,
        DIVERSITY_WITHIN_ALGORITHMS,
        ENGINES,
        AlgorithmAudit,
        AlternatesResult,
        Audit,
        CheckItem,
        Commitment,
        CommittedDraw,
        Diagnosis,
        GroupsResult,
        InfeasibleError,
        InputError,
        Instance,
        InviteResult,
        LoadedInput,
        LotteryCoverageError,
        Pool,
        PoolDistribution,
        PoolFile,
        Problem,
        PseudonymKey,
        QuotaFile,
        Quotas,
        Replacement,
        SeatingRulesError,
        Seed,
        Selection,
        SortitionError,
        TimedOut,
        TimeLimitError,
        ValueQuota,
        VerifyReport,
        alternates,
        check,
        commit,
        draw,
        draw_committed,
        fit_product_model,
        invite,
        load,
        new_key,
        per_value_model,
        personal_ids,
        read_key,
        read_pool,
        read_quotas,
        replace,
        run_audit,
        seat_panel,
        seed_from_beacon,
        seed_from_dice,
        seed_from_reveals,
        seed_from_text,
        select,
        uniform_model,
        verify_record,
        write_alternates,
        write_audit,
        write_commitment,
        write_committed_draw,
        write_groups,
        write_invitations,
        write_replacement,
        write_selection,
    )

__all__ = [
    "ALGORITHMS",
    "AUDIT_ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "DEFAULT_AUDIT_ALGORITHMS",
    "DEFAULT_DRAWS",
    "DIVERSITY_WITHIN_ALGORITHMS",
    "ENGINES",
    "AlgorithmAudit",
    "AlternatesResult",
    "Audit",
    "CheckItem",
    "Commitment",
    "CommittedDraw",
    "Diagnosis",
    "GroupsResult",
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
    "PseudonymKey",
    "QuotaFile",
    "Quotas",
    "Replacement",
    "SeatingRulesError",
    "Seed",
    "Selection",
    "SortitionError",
    "TimeLimitError",
    "TimedOut",
    "ValueQuota",
    "VerifyReport",
    "__version__",
    "alternates",
    "check",
    "commit",
    "draw",
    "draw_committed",
    "fit_product_model",
    "invite",
    "load",
    "new_key",
    "per_value_model",
    "personal_ids",
    "read_key",
    "read_pool",
    "read_quotas",
    "replace",
    "run_audit",
    "seat_panel",
    "seed_from_beacon",
    "seed_from_dice",
    "seed_from_reveals",
    "seed_from_text",
    "select",
    "uniform_model",
    "verify_record",
    "write_alternates",
    "write_audit",
    "write_commitment",
    "write_committed_draw",
    "write_groups",
    "write_invitations",
    "write_replacement",
    "write_selection",
]


def __getattr__(name: str) -> object:
    """A name of the public API, loaded from ``sortition.api`` on first use and kept here."""
    if name not in __all__:
        raise AttributeError(f"module 'sortition' has no attribute {name!r}")
    value = getattr(importlib.import_module("sortition.api"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
