"""Dropout models from the options and files: each panel member's probability of staying.

The product model of Assos, Baharav, Flanigan and Procaccia (2025): a person with value v_f of
each feature f stays with probability

    P(stay) = β₀ · Π_f β_{f, v_f}        (clipped to [0, 1])

* a uniform rate R is β₀ = 1 − R and every β = 1;
* per-value rates (a CSV ``feature,value,rate``) are β₀ = 1 and β_{f,v} = 1 − rate_{f,v} (a value
  not listed has β = 1): the dropout causes of different features act independently;
* the fitted model takes β₀ and every β_{f,v} in (0, 1] that maximise the likelihood of a past
  panel (a CSV with the quota features and ``dropped``, 0 or 1), by projected gradient ascent on
  the logarithms (``fit_product_model``; deterministic, no random start).

A scenario is the set of panel members who drop out: member i (in id order) drops out when the
next 64-bit word w of the seeded stream (docs/randomness.md) is at least floor(P_i(stay) · 2^64),
so each member drops independently with probability 1 − P_i(stay), and anyone can re-draw the
scenarios from the seed.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sortition.engine.dropout_model import DropoutModel
from sortition.errors import N_, InputError, problem
from sortition.io.tables import Table, read_table
from sortition.model import Quotas


def uniform_model(rate: float) -> DropoutModel:
    if not 0.0 <= rate < 1.0 or math.isnan(rate):
        raise InputError(
            [problem(N_("--dropout-rate must be at least 0 and below 1, got {rate}"), rate=rate)]
        )
    return DropoutModel("uniform", 1.0 - rate, {}, {"rate": rate})


def _rows(table: Table) -> list[dict[str, str]]:
    """The table's data rows as {header: cell}."""
    return [
        dict(zip(table.header, row, strict=True))
        for row in table.frame.to_numpy(dtype=object).tolist()
    ]


def _known_values(quotas: Quotas) -> dict[tuple[str, str], int]:
    return {(q.feature, q.value): v for v, q in enumerate(quotas.rows)}


def per_value_model(path: Path, quotas: Quotas) -> DropoutModel:
    """``feature,value,rate`` rows: each value's dropout rate (β = 1 − rate)."""
    table = read_table(path)
    header = [h.strip().lower() for h in table.header]
    missing = [c for c in ("feature", "value", "rate") if c not in header]
    if missing:
        raise InputError(
            [
                problem(
                    N_("missing column {columns}"),
                    file=path.name,
                    columns=", ".join(repr(c) for c in missing),
                )
            ]
        )
    known = _known_values(quotas)
    column = {name: table.header[header.index(name)] for name in ("feature", "value", "rate")}
    beta: dict[tuple[str, str], float] = {}
    problems = []
    for number, row in enumerate(_rows(table), start=2):
        key = (str(row[column["feature"]]).strip(), str(row[column["value"]]).strip())
        text = str(row[column["rate"]]).strip()
        try:
            rate = float(text)
        except ValueError:
            rate = float("nan")
        if not 0.0 <= rate < 1.0:
            problems.append(
                problem(
                    N_("rate {text} is not a number at least 0 and below 1"),
                    text=repr(text),
                    file=path.name,
                    row=number,
                    column=column["rate"],
                )
            )
        elif key not in known:
            problems.append(
                problem(
                    N_("{feature} {value} is not a quota value"),
                    file=path.name,
                    row=number,
                    feature=key[0],
                    value=key[1],
                )
            )
        elif key in beta:
            problems.append(
                problem(
                    N_("{feature} {value} is listed twice"),
                    file=path.name,
                    row=number,
                    feature=key[0],
                    value=key[1],
                )
            )
        else:
            beta[key] = 1.0 - rate
    if problems:
        raise InputError(problems)
    return DropoutModel("per-value", 1.0, beta, {"file": path.name})


def fit_product_model(path: Path, quotas: Quotas, iterations: int = 2000) -> DropoutModel:
    """The product model fitted by maximum likelihood to a past panel: a table with a column per
    quota feature and ``dropped`` (0 or 1)."""
    table = read_table(path)
    features = quotas.features
    missing = [c for c in (*features, "dropped") if c not in table.header]
    if missing:
        raise InputError(
            [
                problem(
                    N_("missing column {columns}"),
                    file=path.name,
                    columns=", ".join(repr(c) for c in missing),
                )
            ]
        )
    known = _known_values(quotas)
    rows, stayed, problems = [], [], []
    for number, row in enumerate(_rows(table), start=2):
        dropped = str(row["dropped"]).strip()
        if dropped not in ("0", "1"):
            problems.append(
                problem(
                    N_("dropped must be 0 or 1, not {dropped}"),
                    dropped=repr(dropped),
                    file=path.name,
                    row=number,
                    column="dropped",
                )
            )
            continue
        indices = []
        for feature in features:
            value = str(row[feature]).strip()
            if (feature, value) not in known:
                problems.append(
                    problem(
                        N_("{value} is not a quota value of {feature}"),
                        value=repr(value),
                        feature=feature,
                        file=path.name,
                        row=number,
                        column=feature,
                    )
                )
            indices.append(known.get((feature, value), 0))
        rows.append(indices)
        stayed.append(dropped == "0")
    if problems:
        raise InputError(problems[:20])
    if not rows:
        raise InputError([problem(N_("has no rows to fit the model on"), file=path.name)])
    beta0, beta = _fit(
        np.array(rows, dtype=np.int64), np.array(stayed), len(quotas.rows), iterations
    )
    fitted = {
        (q.feature, q.value): float(beta[v]) for v, q in enumerate(quotas.rows) if beta[v] < 1.0
    }
    return DropoutModel("fitted", float(beta0), fitted, {"file": path.name, "people": len(rows)})


def _fit(
    values: np.ndarray, stayed: np.ndarray, n_values: int, iterations: int
) -> tuple[float, np.ndarray]:
    """Maximise Σ_stayed log p + Σ_dropped log(1 − p) over θ = log β ≤ 0, p = exp(θ₀ + Σ θ_v),
    by projected gradient ascent with a backtracking step."""
    theta0, theta = 0.0, np.zeros(n_values)
    if stayed.all():
        return 1.0, np.ones(n_values)
    theta0 = math.log(max(stayed.mean(), 1e-6))

    def likelihood(t0: float, t: np.ndarray) -> float:
        p = np.exp(t0 + t[values].sum(axis=1)).clip(1e-12, 1 - 1e-12)
        return float(np.log(p[stayed]).sum() + np.log1p(-p[~stayed]).sum())

    current = likelihood(theta0, theta)
    step = 1.0 / len(values)
    for _ in range(iterations):
        p = np.exp(theta0 + theta[values].sum(axis=1)).clip(1e-12, 1 - 1e-12)
        weight = np.where(stayed, 1.0, -p / (1.0 - p))
        grad0 = float(weight.sum())
        grad = np.bincount(values.ravel(), weights=np.repeat(weight, values.shape[1]),
                           minlength=n_values)  # fmt: skip
        while step > 1e-12:
            new0 = min(theta0 + step * grad0, 0.0)
            new = np.minimum(theta + step * grad, 0.0)
            value = likelihood(new0, new)
            if value >= current:
                break
            step /= 2
        else:
            break
        if value - current < 1e-12:
            theta0, theta, current = new0, new, value
            break
        theta0, theta, current = new0, new, value
        step *= 1.5
    return math.exp(theta0), np.exp(theta)
