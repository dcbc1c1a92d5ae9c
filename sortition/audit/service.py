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

"Below the LEXIMIN minimum" allows for the solvers' accuracy (docs/audit.md): a probability p
counts as below the minimum m only when p < m·(1 − ε) − 1e-9, where ε bounds the relative error
of p: ``LP_ACCURACY`` for LEXIMIN and MAXIMIN, sqrt(2·N·gap / c) for NASH (N selectable people,
gap its reported optimality gap, c the size of the person's type), 0 for sampled frequencies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sortition.audit.beta import jeffreys_upper
from sortition.audit.sampling import sample_counts
from sortition.engine.objectives import PoolDistribution, fair_distribution
from sortition.engine.registry import ALGORITHMS, SAMPLED_ALGORITHMS, sampler
from sortition.errors import InputError, Problem, TimeLimitError
from sortition.io.outputs import atomic_output_dir, write_csv, write_json
from sortition.model import Instance
from sortition.progress import Progress
from sortition.randomness import SeededStream
from sortition.record.build import input_digests, tool_versions
from sortition.record.draw import derive_draw
from sortition.selection.distribution import distribution_document
from sortition.selection.feasibility import require_feasible
from sortition.selection.service import LoadedInput

AUDIT_ALGORITHMS = tuple(ALGORITHMS)
# NASH is left out until it finishes in seconds: on ces11_k60 it ran past 15 minutes.
DEFAULT_ALGORITHMS = ("legacy", "maximin", "leximin")
DEFAULT_DRAWS = 10_000
CONFIDENCE = 0.99
# Round-off of a probability summed from panel weights that add up to 1 within 1e-9.
BELOW_TOLERANCE = 1e-9
# LEXIMIN and MAXIMIN: the engine accepts a level (or the relaxation's vector) once every unit has
# 1 - 1e-7 of its target (sortition.engine.leximin.TARGET_MET; a level's bound is met within
# 1e-9).
LP_ACCURACY = 1e-7


@dataclass(frozen=True)
class AlgorithmAudit:
    """One algorithm's selection probabilities (canonical person order) and one drawn panel."""

    algorithm: str
    probability: np.ndarray
    panel: np.ndarray  # canonical indices of the panel drawn with the audit's seed
    draws: int | None = None  # samplers: panels in each of the two samples
    first_counts: np.ndarray | None = None
    second_counts: np.ndarray | None = None
    stats: dict[str, Any] = field(default_factory=dict)  # the engine's own (rounds, seconds ...)
    # exact algorithms: (n,) a bound on each probability's relative error (probability_accuracy)
    accuracy: np.ndarray | None = None

    @property
    def exact(self) -> bool:
        return self.draws is None

    @property
    def least_selected(self) -> int | None:
        """The first person (canonical order) with the fewest draws in the first sample."""
        return None if self.first_counts is None else int(np.argmin(self.first_counts))

    @property
    def min_upper_99(self) -> float | None:
        if self.second_counts is None or self.least_selected is None or self.draws is None:
            return None
        return jeffreys_upper(int(self.second_counts[self.least_selected]), self.draws, CONFIDENCE)


@dataclass(frozen=True)
class TimedOut:
    """A fair algorithm that did not finish within the time limit, and the message saying so."""

    algorithm: str
    time_limit: float | None
    message: str


@dataclass(frozen=True)
class Audit:
    loaded: LoadedInput
    seed: str
    results: tuple[AlgorithmAudit, ...]  # the algorithms that finished, in the order asked for
    timed_out: tuple[TimedOut, ...] = ()
    algorithms: tuple[str, ...] = ()  # every algorithm asked for, in order (finished or not)
    time_limit: float | None = None  # seconds each fair algorithm was allowed

    @property
    def instance(self) -> Instance:
        return self.loaded.instance

    def result(self, algorithm: str) -> AlgorithmAudit | None:
        return next((r for r in self.results if r.algorithm == algorithm), None)

    @property
    def reference_min(self) -> tuple[str, float] | None:
        """The LEXIMIN minimum (equal to the MAXIMIN one, its first level), if either was run."""
        for name in ("leximin", "maximin"):
            result = self.result(name)
            if result is not None:
                return name, float(result.probability.min())
        return None


def parse_algorithms(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in AUDIT_ALGORITHMS]
    if unknown or not names:
        known = ", ".join(AUDIT_ALGORITHMS)
        what = f"unknown algorithm(s) {', '.join(unknown)}" if unknown else "no algorithm given"
        raise InputError([Problem(f"--algorithms: {what} (known: {known})")])
    return names


def run_audit(
    loaded: LoadedInput,
    algorithms: Sequence[str],
    seed: str,
    *,
    draws: int = DEFAULT_DRAWS,
    workers: int = 1,
    time_limit: float | None = None,
    by_type: bool = True,
    progress: Progress | None = None,
) -> Audit:
    """Audit each algorithm in turn; ``progress`` hears the sampled draws and the fair
    algorithms' progress events (the CLI renders them).

    ``time_limit`` applies to each fair algorithm; one that runs out of time is recorded in
    ``Audit.timed_out`` and the audit goes on with the next. Raises TimeLimitError (exit 4) only
    when no algorithm finished.
    """
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
            results.append(AlgorithmAudit(algorithm, first / draws, panel, draws, first, second))
        else:
            try:
                fair = fair_distribution(
                    instance,
                    algorithm,
                    by_type=by_type,
                    progress=progress,
                    time_limit=time_limit,
                )
            except TimeLimitError as error:
                message = "; ".join(problem.message for problem in error.problems)
                timed_out.append(TimedOut(algorithm, time_limit, message))
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
                )
            )
    if not results:
        raise TimeLimitError([Problem(t.message) for t in timed_out])
    return Audit(loaded, seed, tuple(results), tuple(timed_out), tuple(algorithms), time_limit)


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


def share_below(probability: np.ndarray, accuracy: np.ndarray | None, minimum: float) -> float:
    """The share of people whose probability is below ``minimum`` beyond its accuracy:
    p < minimum·(1 − ε) − BELOW_TOLERANCE (ε = 0 where ``accuracy`` is None)."""
    p = np.asarray(probability, dtype=np.float64)
    eps = np.zeros_like(p) if accuracy is None else np.asarray(accuracy, dtype=np.float64)
    return float(np.mean(p < minimum * (1.0 - eps) - BELOW_TOLERANCE))


# --------------------------------------------------------------------------- metrics


def gini(probability: np.ndarray, k: int) -> float:
    """Σᵢ (2i − n + 1)·pᵢ / (n·k) over the probabilities sorted increasingly, i from 0."""
    p = np.sort(np.asarray(probability, dtype=float))
    n = len(p)
    weights = 2 * np.arange(n) - n + 1
    return float(np.dot(weights, p) / (n * k))


def geometric_mean(probability: np.ndarray, floor: float = 0.0) -> float:
    """exp(mean log max(pᵢ, floor)); 0 when some probability is 0 and there is no floor."""
    p = np.maximum(np.asarray(probability, dtype=float), floor)
    if (p <= 0).any():
        return 0.0
    return float(math.exp(float(np.mean(np.log(p)))))


def panel_check(instance: Instance, panel: np.ndarray) -> dict[str, Any]:
    """Every quota and the household rule, for one drawn panel."""
    pool, quotas = instance.pool, instance.quotas
    counts = instance.panel_counts(panel)
    problems = [
        f"{quotas.label(v)}: {int(counts[v])} on the panel, quota {q.min}-{q.max}"
        for v, q in enumerate(quotas.rows)
        if not q.min <= counts[v] <= q.max
    ]
    quotas_met = not problems
    if len(panel) != instance.k:
        problems.append(f"the panel has {len(panel)} people, k is {instance.k}")
    household_rule: bool | None = None
    if pool.households is not None:
        households = pool.households[panel]
        household_rule = len(np.unique(households)) == len(households)
        if not household_rule:
            problems.append("two panel members share a household")
    return {
        "ids": [pool.ids[int(i)] for i in panel],
        "size": len(panel),
        "quotas_met": quotas_met,
        "household_rule": household_rule,
        "problems": problems,
    }


def value_rows(instance: Instance, probability: np.ndarray) -> list[dict[str, Any]]:
    """Per feature value: quota, pool share, expected panel share (Σ of its people's p / k)."""
    pool, quotas, k = instance.pool, instance.quotas, instance.k
    pool_counts = pool.value_counts(len(quotas.rows))
    expected = np.zeros(len(quotas.rows))
    np.add.at(expected, pool.values.ravel(), np.repeat(probability, pool.values.shape[1]))
    return [
        {
            "feature": q.feature,
            "value": q.value,
            "min": q.min,
            "max": q.max,
            "pool": int(pool_counts[v]),
            "pool_share": float(pool_counts[v] / pool.size),
            "expected_panel": float(expected[v]),
            "expected_panel_share": float(expected[v] / k),
        }
        for v, q in enumerate(quotas.rows)
    ]


def algorithm_metrics(audit: Audit, result: AlgorithmAudit) -> dict[str, Any]:
    instance = audit.instance
    n, k = instance.pool.size, instance.k
    p = result.probability
    reference = audit.reference_min
    metrics: dict[str, Any] = {
        "timed_out": False,
        "exact": result.exact,
        "min": float(p.min()),
        "max": float(p.max()),
        "mean": float(p.mean()),
        "min_over_k_n": float(p.min() / (k / n)),
        "gini": gini(p, k),
        "geometric_mean": geometric_mean(p, 0.0 if result.draws is None else 1 / result.draws),
        "share_below_leximin_min": None
        if reference is None
        else share_below(p, result.accuracy, reference[1]),
        "accuracy": None if result.accuracy is None else float(result.accuracy.max()),
    }
    if result.draws is not None and result.least_selected is not None:
        assert result.first_counts is not None and result.second_counts is not None
        person = result.least_selected
        metrics["draws"] = result.draws
        metrics["min_upper_99"] = result.min_upper_99
        metrics["least_selected"] = {
            "id": instance.pool.ids[person],
            "first_sample": int(result.first_counts[person]),
            "second_sample": int(result.second_counts[person]),
        }
    metrics["values"] = value_rows(instance, p)
    metrics["panel"] = panel_check(instance, result.panel)
    return metrics


def metrics_document(audit: Audit) -> dict[str, Any]:
    """metrics.json: one entry per algorithm, in the order asked for; one that ran out of time has
    only ``timed_out`` (true), ``time_limit`` and ``message``."""
    stopped = {t.algorithm: t for t in audit.timed_out}
    document: dict[str, Any] = {}
    for algorithm in audit.algorithms or tuple(r.algorithm for r in audit.results):
        result = audit.result(algorithm)
        if result is not None:
            document[algorithm] = algorithm_metrics(audit, result)
        elif algorithm in stopped:
            t = stopped[algorithm]
            document[algorithm] = {
                "timed_out": True,
                "time_limit": t.time_limit,
                "message": t.message,
            }
    return document


def inputs_document(audit: Audit, draws: int) -> dict[str, Any]:
    """inputs.json: what was audited (digests as in a selection record), with which seed."""
    loaded = audit.loaded
    return {
        "tool": tool_versions(),
        "inputs": input_digests(loaded.instance, loaded.files),
        "k": loaded.instance.k,
        "algorithms": list(audit.algorithms or (r.algorithm for r in audit.results)),
        "timed_out": [t.algorithm for t in audit.timed_out],
        "time_limit": audit.time_limit,
        "seed": audit.seed,
        "draws": draws if any(not r.exact for r in audit.results) else None,
        "reference_min": None if audit.reference_min is None else audit.reference_min[0],
    }


def probability_table(audit: Audit) -> tuple[list[str], list[list[str]]]:
    """probabilities.csv: id, then one column per algorithm, in the pool file's row order."""
    pool = audit.instance.pool
    header = ["id", *(r.algorithm for r in audit.results)]
    rows = [
        [pool.ids[i], *(f"{float(r.probability[i]):.12f}" for r in audit.results)]
        for i in np.argsort(pool.source_rows, kind="stable")
    ]
    return header, rows


def write_audit(audit: Audit, out: Path, draws: int, force: bool = False) -> list[Path]:
    """metrics.json, inputs.json, probabilities.csv, the plots and report.html, all at once (the
    algorithms that finished; those that ran out of time are named in metrics.json, inputs.json
    and the report)."""
    from sortition.audit.report import write_report  # matplotlib is loaded only when writing

    metrics = metrics_document(audit)
    inputs = inputs_document(audit, draws)
    with atomic_output_dir(out, force, audit.loaded.sources) as staging:
        write_json(staging / "metrics.json", metrics)
        write_json(staging / "inputs.json", inputs)
        header, rows = probability_table(audit)
        write_csv(staging / "probabilities.csv", header, rows)
        names = ["metrics.json", "inputs.json", "probabilities.csv"]
        names += write_report(audit, metrics, inputs, staging)
    return [out / name for name in names]
