"""What an audit found, and the summary metrics of docs/audit.md computed from it.

An :class:`Audit` holds, for each algorithm that finished, every volunteer's selection probability
(canonical person order) and one panel drawn with the audit's seed; the functions below turn it
into metrics.json, inputs.json and probabilities.csv (``sortition.audit.service`` computes it,
``sortition.audit.report`` draws it).

"Below the LEXIMIN minimum" allows for the solvers' accuracy (docs/audit.md): a probability p
counts as below the minimum m only when p < m·(1 − ε) − 1e-9, where ε bounds the relative error
of p (``AlgorithmAudit.accuracy``, from ``sortition.audit.service.probability_accuracy``; 0 for
sampled frequencies).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sortition.audit.beta import jeffreys_upper
from sortition.model import Instance
from sortition.record.build import input_digests, tool_versions
from sortition.selection.service import LoadedInput

CONFIDENCE = 0.99
# Round-off of a probability summed from panel weights that add up to 1 within 1e-9.
BELOW_TOLERANCE = 1e-9


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
    # fair algorithms: the distribution's certificate (sortition.units.Certificate.as_record)
    certificate: dict[str, Any] | None = None
    # exact algorithms: (n,) a bound on each probability's relative error (probability_accuracy)
    accuracy: np.ndarray | None = None
    # the diversity score (docs/diversity.md) of the drawn panel and its expectation
    # (``sortition.audit.service.diversity_of``)
    diversity: dict[str, Any] | None = None

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
    if result.certificate is not None:
        metrics["certificate"] = result.certificate
    if result.diversity is not None:
        metrics["diversity"] = result.diversity
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
