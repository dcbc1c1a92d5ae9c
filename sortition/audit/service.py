"""The fairness audit: every volunteer's selection probability under several algorithms, side by
side, with the summary metrics of docs/audit.md.

Exact probabilities come from the distribution of a fair algorithm (LEXIMIN, MAXIMIN, NASH);
a sampler (LEGACY) is audited as a black box, from seeded repeated draws (sortition.audit.sampling):
its probabilities are the frequencies of a first sample, and the bound on its smallest probability
is the 99 % upper Jeffreys bound of the least-selected person of the first sample, counted in a
second, independent sample (as the Nature paper did).

``--time-limit`` applies to each fair algorithm on its own. One that runs out of time is named
(``Audit.timed_out``) and left out; the others are audited and written all the same, and the CLI
then exits with 4. Only when no algorithm finished is nothing written.

The metrics and the types of an audit live in ``sortition.audit.metrics``; ``probability_accuracy``
here bounds each exact probability's relative error ε: ``LP_ACCURACY`` for LEXIMIN and MAXIMIN,
sqrt(2·N·gap / c) for NASH (N selectable people, gap its reported optimality gap, c the size of the
person's type).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sortition.audit.metrics import (
    AlgorithmAudit,
    Audit,
    TimedOut,
    inputs_document,
    metrics_document,
    probability_table,
)
from sortition.audit.sampling import sample_counts
from sortition.engine.diversity import measure_of
from sortition.engine.objectives import PoolDistribution, fair_distribution
from sortition.engine.registry import ALGORITHMS, SAMPLED_ALGORITHMS, sampler
from sortition.engine.settings import DEFAULT_GAMMA, EngineSettings
from sortition.errors import N_, InputError, Message, Problem, TimeLimitError, problem
from sortition.io.outputs import atomic_output_dir, write_csv, write_json
from sortition.io.pool import write_pseudonym_table
from sortition.io.tables import PathLike
from sortition.model import Instance
from sortition.progress import Progress
from sortition.randomness import SeededStream
from sortition.record.build import SeedLike
from sortition.record.draw import derive_draw
from sortition.selection.distribution import distribution_document
from sortition.selection.feasibility import require_feasible
from sortition.selection.service import LoadedInput

AUDIT_ALGORITHMS = tuple(ALGORITHMS)
# NASH is left out until it finishes in seconds: on ces11_k60 it ran past 15 minutes.
DEFAULT_ALGORITHMS = ("legacy", "maximin", "leximin")
DEFAULT_DRAWS = 10_000
# LEXIMIN and MAXIMIN: the engine accepts a level (or the relaxation's vector) once every unit has
# 1 - 1e-7 of its target (engine.realise.TARGET_MET; a level's bound is met within 1e-9).
LP_ACCURACY = 1e-7


def parse_algorithms(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in AUDIT_ALGORITHMS]
    if unknown or not names:
        known = ", ".join(AUDIT_ALGORITHMS)
        what = (
            Message(N_("unknown algorithm(s) {names}"), names=", ".join(unknown))
            if unknown
            else Message(N_("no algorithm given"))
        )
        raise InputError(
            [problem(N_("--algorithms: {what} (known: {known})"), what=what, known=known)]
        )
    return names


def run_audit(
    loaded: LoadedInput,
    algorithms: Sequence[str],
    seed: SeedLike | str,
    *,
    draws: int = DEFAULT_DRAWS,
    workers: int = 1,
    time_limit: float | None = None,
    by_type: bool = True,
    progress: Progress | None = None,
    gamma: float = DEFAULT_GAMMA,
) -> Audit:
    """Audit each algorithm in turn, with the seed (its text, or a ``Seed``'s value): the
    draws of a sampler and the panel drawn for each algorithm derive from it.
    ``progress`` hears the sampled draws and the fair algorithms' progress events (the CLI
    renders them).

    ``time_limit`` applies to each fair algorithm; one that runs out of time is recorded in
    ``Audit.timed_out`` and the audit goes on with the next. Raises TimeLimitError (exit 4) only
    when no algorithm finished.
    """
    seed = seed if isinstance(seed, str) else seed.value
    instance = loaded.instance
    require_feasible(instance)
    results = []
    timed_out: list[TimedOut] = []
    for algorithm in algorithms:
        if algorithm in SAMPLED_ALGORITHMS:
            first, second = sample_counts(
                instance, algorithm, seed, draws, samples=2, workers=workers, progress=progress
            )
            panel = sampler(algorithm)(instance).draw(SeededStream(seed)).panel
            diversity = sampled_diversity(instance, algorithm, seed, panel, draws)
            results.append(
                AlgorithmAudit(
                    algorithm, first / draws, panel, draws, first, second, diversity=diversity
                )
            )
        else:
            try:
                fair = fair_distribution(
                    instance,
                    algorithm,
                    by_type=by_type,
                    settings=EngineSettings(gamma=gamma),
                    progress=progress,
                    time_limit=time_limit,
                )
            except TimeLimitError as error:
                timed_out.append(TimedOut(algorithm, time_limit, _joined(error.problems)))
                continue
            # The panel `sortition select --algorithm A --seed S` would draw.
            draw = derive_draw(
                {"algorithm": algorithm, "distribution": distribution_document(fair)}, seed
            )
            position = {person: i for i, person in enumerate(instance.pool.ids)}
            panel = np.array(sorted(position[p] for p in draw.panel), dtype=np.int64)
            results.append(
                AlgorithmAudit(
                    algorithm,
                    fair.person_probability,
                    panel,
                    stats=dict(fair.distribution.stats),
                    accuracy=probability_accuracy(fair),
                    certificate=None
                    if fair.distribution.certificate is None
                    else fair.distribution.certificate.as_record(),
                    diversity=exact_diversity(fair, panel),
                )
            )
    if not results:
        raise TimeLimitError([Problem(t.message) for t in timed_out])
    return Audit(loaded, seed, tuple(results), tuple(timed_out), tuple(algorithms), time_limit)


def _joined(problems: list[Problem]) -> str:
    """The problems' messages joined by "; " (the English of metrics.json), each kept
    translatable: a ``Message`` whose parts are the problems."""
    joined: str = ""
    for number, found in enumerate(problems):
        joined = (
            Message("{problem}", problem=found)
            if number == 0
            else Message("{problems}; {problem}", problems=joined, problem=found)
        )
    return joined


# LEGACY's expected diversity score: the mean over this many of its panels (at most --draws),
# drawn from their own stream (the audit's seed followed by "/diversity").
DIVERSITY_SAMPLE = 1_000


def exact_diversity(fair: PoolDistribution, panel: np.ndarray) -> dict[str, Any]:
    """The diversity score (docs/diversity.md) of the drawn panel and its exact expectation over
    the distribution: the sum over its panels of weight × score."""
    instance, units = fair.instance, fair.units
    measure = measure_of(instance.pool.values, instance.quotas.feature_of_value, instance.k)
    form = measure.cells(units)
    dist = fair.distribution
    expected = math.fsum(
        float(weight) * float(measure.exact_score_of_counts(form, counts))
        for weight, counts in zip(dist.weights, dist.panels, strict=True)
    )
    return {
        "drawn": measure.score(instance.pool.values[panel]),
        "expected": expected,
        "how": "exact",
        "intersections": len(measure.intersections),
    }


def sampled_diversity(
    instance: Instance, algorithm: str, seed: str, panel: np.ndarray, draws: int
) -> dict[str, Any]:
    """A sampler's drawn panel's score, and the mean score of ``DIVERSITY_SAMPLE`` (at most
    ``draws``) of its panels with the standard error of that mean."""
    measure = measure_of(instance.pool.values, instance.quotas.feature_of_value, instance.k)
    draw = sampler(algorithm)(instance).draw
    stream = SeededStream(f"{seed}/diversity")
    count = min(draws, DIVERSITY_SAMPLE)
    scores = np.array(
        [measure.score(instance.pool.values[draw(stream).panel]) for _ in range(count)]
    )
    error = float(scores.std(ddof=1) / math.sqrt(count)) if count > 1 else None
    return {
        "drawn": measure.score(instance.pool.values[panel]),
        "expected": float(scores.mean()),
        "how": "sampled",
        "samples": count,
        "standard_error": error,
        "intersections": len(measure.intersections),
    }


def probability_accuracy(fair: PoolDistribution) -> np.ndarray:
    """(n,) ε: each person's computed probability p and the algorithm's exact one p* satisfy
    |p − p*| ≤ ε·max(p, p*), so p* ≤ p / (1 − ε).

    LEXIMIN and MAXIMIN: ``LP_ACCURACY``. NASH maximises F(p) = Σ_u c_u·log p_u over the convex
    set of achievable probabilities (c_u people in unit u, N = Σ c_u selectable people) and stops
    once its bound on the optimum exceeds F(p) by at most N·gap (``stats["gap"]``). Taylor's
    theorem and the optimality of p* give F(p*) − F(p) ≥ c_u·(p_u − p*_u)² / (2ξ²) with ξ between
    p_u and p*_u, hence ε_u = sqrt(2·N·gap / c_u) (capped at 1). People on no feasible panel have
    probability 0 exactly: ε = 0.
    """
    units = fair.units
    if fair.distribution.algorithm != "nash":
        unit_eps = np.full(units.n_units, LP_ACCURACY)
    else:
        gap = float(fair.distribution.stats.get("gap", math.inf))
        capacity = units.capacity.astype(np.float64)
        selectable = np.ones(units.n_units, dtype=bool)
        selectable[list(fair.distribution.never_selectable)] = False
        total = float(capacity[selectable].sum())
        with np.errstate(invalid="ignore"):
            unit_eps = np.sqrt(2.0 * total * max(gap, 0.0) / capacity)
        unit_eps = np.where(np.isfinite(unit_eps), np.minimum(unit_eps, 1.0), 1.0)
        unit_eps[~selectable] = 0.0
    return np.asarray(unit_eps, dtype=np.float64)[fair.unit_of_person]


def write_audit(audit: Audit, out: PathLike, draws: int, force: bool = False) -> list[Path]:
    """metrics.json, inputs.json, probabilities.csv, the plots and report.html, all at once (the
    algorithms that finished; those that ran out of time are named in metrics.json, inputs.json
    and the report)."""
    from sortition.audit.report import write_report  # matplotlib is loaded only when writing

    out = Path(out)
    metrics = metrics_document(audit)
    inputs = inputs_document(audit, draws)
    with atomic_output_dir(out, force, audit.loaded.sources) as staging:
        write_json(staging / "metrics.json", metrics)
        write_json(staging / "inputs.json", inputs)
        header, rows = probability_table(audit)
        write_csv(staging / "probabilities.csv", header, rows)
        names = ["metrics.json", "inputs.json", "probabilities.csv"]
        names += write_report(audit, metrics, inputs, staging)
        names += write_pseudonym_table(staging, audit.loaded.pool_file)
    return [out / name for name in names]
