"""The population model behind the synthetic pools (``sortition.synthetic.pools``, whose
docstring gives the four steps): the catalogue of named features (``catalogue.json``, shipped
beside this module), skewed population shares, correlated latent draws, self-selection and
households. Every function takes its random generator from the caller, so the same seed gives the
same pool.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

# Volunteers per household among the pool: sizes 1..6, mostly 1.
HOUSEHOLD_SIZE_SHARES = np.array([0.72, 0.18, 0.06, 0.025, 0.01, 0.005])

CATALOGUE = "catalogue.json"  # the named features: values, shares, propensities (data file)

_CHUNK = 1 << 19  # candidates drawn per round of rejection sampling
_TARGET_ACCEPTANCE = 0.2  # the least share of candidates who volunteer (estimated)


# --------------------------------------------------------------------------------------------------
# The catalogue of named features
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Template:
    """A named feature: its values for each supported count, with plausible population shares."""

    name: str
    values: dict[int, tuple[str, ...]]
    shares: dict[int, tuple[float, ...]]
    concentration: float  # Dirichlet concentration around ``shares``: larger = closer to them
    # mean slope of the log-propensity over the value order (+: later values volunteer more)
    volunteer_slope: float
    household_share: float  # probability that a household member copies the first member's value


@functools.cache
def _catalogue() -> tuple[dict[str, _Template], dict[int, tuple[str, ...]]]:
    """The named features (``CATALOGUE``, shipped beside this module) and, for each value count,
    the named features to use in order of preference."""
    text = resources.files("sortition.synthetic").joinpath(CATALOGUE).read_text(encoding="utf-8")
    data = json.loads(text)
    templates = {
        name: _Template(
            name,
            {int(count): tuple(level["names"]) for count, level in entry["values"].items()},
            {
                int(count): tuple(float(share) for share in level["shares"])
                for count, level in entry["values"].items()
            },
            float(entry["concentration"]),
            float(entry["volunteer_slope"]),
            float(entry["household_share"]),
        )
        for name, entry in data["features"].items()
    }
    preferences = {int(count): tuple(names) for count, names in data["preferences"].items()}
    return templates, preferences


@dataclass(frozen=True)
class Feature:
    name: str
    values: tuple[str, ...]
    base_shares: np.ndarray
    concentration: float
    volunteer_slope: float
    household_share: float


def choose_features(value_counts: Sequence[int]) -> list[Feature]:
    """Named features where the catalogue has one for the count, ``feature{j}`` otherwise."""
    templates, preferences = _catalogue()
    used: set[str] = set()
    features: list[Feature] = []
    for j, count in enumerate(value_counts, start=1):
        template = next(
            (
                templates[name]
                for name in preferences.get(count, ())
                if name not in used and count in templates[name].values
            ),
            None,
        )
        if template is not None:
            used.add(template.name)
            features.append(
                Feature(
                    template.name,
                    template.values[count],
                    np.asarray(template.shares[count], dtype=float),
                    template.concentration,
                    template.volunteer_slope,
                    template.household_share,
                )
            )
        else:
            # Geometric-like shares (ratio 0.75), in a seeded order chosen later.
            base = 0.75 ** np.arange(count, dtype=float)
            features.append(
                Feature(
                    f"feature{j}",
                    tuple(f"v{i}" for i in range(1, count + 1)),
                    base / base.sum(),
                    3.0 * count,
                    0.0,
                    0.0,
                )
            )
    # Catalogue names never look like "featureN", so names are unique; keep the promise explicit.
    names = [f.name for f in features]
    if len(set(names)) != len(names):  # pragma: no cover - defensive
        raise AssertionError(f"duplicate feature names {names}")
    return features


# --------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------


def population_shares(feature: Feature, rng: np.random.Generator) -> np.ndarray:
    """Skewed shares: a Dirichlet draw around the feature's plausible shares.

    Generic features get their geometric shares in a seeded order. Every share is at least 0.2 %.
    """
    base = feature.base_shares
    if feature.name.startswith("feature"):
        base = base[rng.permutation(len(base))]
    shares = rng.dirichlet(base * feature.concentration)
    shares = np.maximum(shares, 0.002)
    return np.asarray(shares / shares.sum(), dtype=float)


def random_correlation(count: int, rng: np.random.Generator) -> np.ndarray:
    """A random correlation matrix from a two-factor model: moderate, mixed-sign correlations."""
    factors = min(2, count)
    loadings = rng.normal(0.0, 0.55, size=(count, factors))
    covariance = loadings @ loadings.T + np.diag(rng.uniform(0.4, 1.0, size=count))
    scale = 1.0 / np.sqrt(np.diag(covariance))
    correlation = covariance * scale[:, None] * scale[None, :]
    np.fill_diagonal(correlation, 1.0)
    return correlation


def log_propensities(feature: Feature, rng: np.random.Generator) -> np.ndarray:
    """Per-value log-propensities to volunteer: the feature's slope over its values, plus noise."""
    count = len(feature.values)
    position = np.linspace(-0.5, 0.5, count)
    slope = feature.volunteer_slope * rng.uniform(0.8, 1.25)
    log_p = slope * position + rng.normal(0.0, 0.15, size=count)
    return np.asarray(log_p - log_p.mean(), dtype=float)


def limit_selection(propensities: list[np.ndarray], shares: list[np.ndarray]) -> list[np.ndarray]:
    """Propensities scaled down, if need be, so that about a fifth of candidates volunteer.

    The acceptance rate is estimated as if the features were independent; the scale comes from a
    fixed bisection, so it is deterministic.
    """

    def acceptance(scale: float) -> float:
        rate = 1.0
        for p, s in zip(propensities, shares, strict=True):
            rate *= float(np.dot(s, np.exp(scale * (p - p.max()))))
        return rate

    if acceptance(1.0) >= _TARGET_ACCEPTANCE:
        return propensities
    low, high = 0.0, 1.0
    for _ in range(40):
        middle = (low + high) / 2
        if acceptance(middle) >= _TARGET_ACCEPTANCE:
            low = middle
        else:
            high = middle
    return [low * p for p in propensities]


def draw_volunteers(
    n: int,
    correlation: np.ndarray,
    thresholds: list[np.ndarray],
    propensities: list[np.ndarray],
    rng: np.random.Generator,
) -> np.ndarray:
    """Feature codes (features x n) of the first ``n`` candidates who volunteer.

    Candidates are drawn in fixed-size chunks from the latent normal, cut at the thresholds, and
    each volunteers with probability ``exp(sum of propensities - its maximum)``.
    """
    count = len(thresholds)
    cholesky = np.linalg.cholesky(correlation).astype(np.float32)
    max_values = max(len(t) + 1 for t in thresholds)
    code_type = np.uint8 if max_values <= 255 else np.uint16
    cuts = [t.astype(np.float32) for t in thresholds]
    # Shifted so that the most eager type has log-probability 0.
    shifted = [(p - p.max()).astype(np.float32) for p in propensities]
    accepted: list[np.ndarray] = []
    have = 0
    while have < n:
        chunk = min(_CHUNK, max(1024, 4 * (n - have)))
        latent = cholesky @ rng.standard_normal((count, chunk), dtype=np.float32)
        codes = np.empty((count, chunk), dtype=code_type)
        log_p = np.zeros(chunk, dtype=np.float32)
        for j in range(count):
            # The code is the number of cuts below the latent value; for a few cuts, comparisons
            # are several times faster than searchsorted.
            row = codes[j]
            if len(cuts[j]) > 16:
                row[:] = np.searchsorted(cuts[j], latent[j], side="right")
            else:
                np.greater(latent[j], cuts[j][0], out=row, casting="unsafe")
                for cut in cuts[j][1:]:
                    row += latent[j] > cut
            log_p += shifted[j][codes[j]]
        keep = rng.random(chunk, dtype=np.float32) < np.exp(log_p)
        accepted.append(codes[:, keep])
        have += int(np.count_nonzero(keep))
    return np.concatenate(accepted, axis=1)[:, :n]


def assign_households(
    features: list[Feature], codes: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """The household number of each volunteer (row); households have 1-6 members, mostly 1.

    Households fill consecutive slots, and the slots are scattered over the rows at random.
    Members copy the first member's household-level features (in place in ``codes``).
    """
    n = codes.shape[1]
    sizes = rng.choice(
        np.arange(1, len(HOUSEHOLD_SIZE_SHARES) + 1), size=n, p=HOUSEHOLD_SIZE_SHARES
    )
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, n, side="left")) + 1
    sizes = sizes[:count]
    sizes[-1] -= int(ends[count - 1]) - n  # the last household is cut to fit n
    household_of_slot = np.repeat(np.arange(count), sizes)
    first_slot = (np.cumsum(sizes) - sizes)[household_of_slot]
    row_of_slot = rng.permutation(n)
    household_of = np.empty(n, dtype=np.int64)
    household_of[row_of_slot] = household_of_slot
    followers = np.flatnonzero(first_slot != np.arange(n))
    follower_rows = row_of_slot[followers]
    leader_rows = row_of_slot[first_slot[followers]]
    for j, feature in enumerate(features):
        if feature.household_share <= 0.0:
            continue
        copy = rng.random(followers.size) < feature.household_share
        codes[j, follower_rows[copy]] = codes[j, leader_rows[copy]]
    return household_of
