"""Synthetic volunteer pools with quotas, for benchmarks, tests and demonstrations.

The model, in four steps (``data/README.md`` explains it at more length):

1. **Population.** Every feature has skewed population shares (a Dirichlet draw around plausible
   shares for named features, geometric-like shares otherwise). A person is a draw of a latent
   multivariate normal vector with a random correlation matrix; feature ``j`` takes the value whose
   band of population quantiles holds latent coordinate ``j``, so each marginal is exactly its share
   while the features are correlated.
2. **Self-selection.** Every value has a propensity to volunteer (older and more educated people
   more, for example). A candidate volunteers with probability ``exp(sum of propensities - max)``;
   candidates are drawn in chunks until ``n`` have volunteered.
3. **Households** (optional). Volunteers are grouped into households of 1-6 members (mostly 1),
   and members share the household-level features (region, area type, tenure; ethnicity mostly).
4. **Quotas** come from the population shares: ``floor(share*k)`` to ``ceil(share*k)``, a min capped
   at the number of volunteers with the value, a max raised where the pool could not otherwise fill
   ``k`` seats on that feature.

Every random choice comes from :func:`sortition.randomness.numpy_generator`, so the same arguments
and seed give the same pool, byte for byte.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from sortition.errors import InputError, Problem
from sortition.randomness import numpy_generator

__all__ = [
    "PRESETS",
    "GeneratedInstance",
    "generate_instance",
    "value_counts_for",
    "write_instance",
]

PRESETS: dict[str, tuple[int, ...]] = {
    "realistic4": (2, 3, 4, 5),
    "realistic7": (2, 3, 4, 5, 6, 8, 12),
    "realistic10": (2, 2, 3, 3, 4, 4, 5, 6, 8, 12),
}

# Value counts of ``--features F`` without a preset: the first F of this pattern, cycling.
_FEATURE_PATTERN: tuple[int, ...] = (2, 3, 4, 5, 6, 8, 12)

# Volunteers per household among the pool: sizes 1..6, mostly 1.
_HOUSEHOLD_SIZE_SHARES = np.array([0.72, 0.18, 0.06, 0.025, 0.01, 0.005])

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


# The twelve UK regions and nations with their approximate shares of the adult population.
_UK_REGIONS_AND_SHARES = (
    ("North East", 0.040),
    ("North West", 0.110),
    ("Yorkshire and the Humber", 0.082),
    ("East Midlands", 0.073),
    ("West Midlands", 0.089),
    ("East of England", 0.094),
    ("London", 0.134),
    ("South East", 0.138),
    ("South West", 0.085),
    ("Wales", 0.047),
    ("Scotland", 0.081),
    ("Northern Ireland", 0.027),
)
_UK_REGIONS = tuple(name for name, _ in _UK_REGIONS_AND_SHARES)
_UK_REGION_SHARES = tuple(share for _, share in _UK_REGIONS_AND_SHARES)

_TEMPLATES: dict[str, _Template] = {
    t.name: t
    for t in [
        _Template(
            "gender",
            {2: ("female", "male"), 3: ("female", "male", "non-binary or other")},
            {2: (0.51, 0.49), 3: (0.505, 0.485, 0.01)},
            400.0,
            0.0,
            0.0,
        ),
        _Template(
            "age",
            {
                2: ("16-44", "45+"),
                3: ("16-34", "35-59", "60+"),
                4: ("16-29", "30-44", "45-64", "65+"),
                5: ("16-24", "25-39", "40-54", "55-69", "70+"),
                6: ("16-24", "25-34", "35-44", "45-54", "55-64", "65+"),
                8: ("16-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"),
            },
            {
                2: (0.47, 0.53),
                3: (0.31, 0.40, 0.29),
                4: (0.22, 0.24, 0.32, 0.22),
                5: (0.14, 0.24, 0.24, 0.22, 0.16),
                6: (0.14, 0.16, 0.16, 0.17, 0.15, 0.22),
                8: (0.06, 0.16, 0.16, 0.15, 0.17, 0.14, 0.10, 0.06),
            },
            150.0,
            1.0,
            0.0,
        ),
        _Template(
            "region",
            {12: _UK_REGIONS},
            {12: _UK_REGION_SHARES},
            300.0,
            0.0,
            1.0,
        ),
        _Template(
            "education",
            {
                2: ("no degree", "degree"),
                3: ("GCSE or less", "A-level or vocational", "degree or higher"),
                4: ("no qualifications", "GCSE", "A-level or vocational", "degree or higher"),
                5: (
                    "no qualifications",
                    "GCSE",
                    "A-level",
                    "vocational",
                    "degree or higher",
                ),
                6: (
                    "no qualifications",
                    "GCSE",
                    "A-level",
                    "vocational",
                    "degree",
                    "postgraduate",
                ),
            },
            {
                2: (0.66, 0.34),
                3: (0.38, 0.28, 0.34),
                4: (0.18, 0.25, 0.23, 0.34),
                5: (0.18, 0.25, 0.16, 0.07, 0.34),
                6: (0.18, 0.25, 0.16, 0.07, 0.21, 0.13),
            },
            100.0,
            1.2,
            0.0,
        ),
        _Template(
            "ethnicity",
            {
                2: ("White", "ethnic minority"),
                5: ("White", "Asian", "Black", "Mixed", "Other"),
                6: ("White British", "White other", "Asian", "Black", "Mixed", "Other"),
            },
            {
                2: (0.82, 0.18),
                5: (0.82, 0.09, 0.04, 0.03, 0.02),
                6: (0.74, 0.08, 0.09, 0.04, 0.03, 0.02),
            },
            150.0,
            0.0,
            0.85,
        ),
        _Template(
            "area_type",
            {2: ("urban", "rural"), 3: ("city", "town", "rural")},
            {2: (0.82, 0.18), 3: (0.45, 0.37, 0.18)},
            100.0,
            0.0,
            1.0,
        ),
        _Template(
            "housing_tenure",
            {
                2: ("owner", "renter"),
                3: ("owner-occupier", "private renter", "social renter"),
                4: ("owned outright", "mortgage", "private renter", "social renter"),
            },
            {2: (0.64, 0.36), 3: (0.64, 0.19, 0.17), 4: (0.33, 0.31, 0.19, 0.17)},
            100.0,
            -0.5,
            1.0,
        ),
        _Template(
            "income",
            {
                3: ("low", "middle", "high"),
                4: ("low", "lower middle", "upper middle", "high"),
                5: ("very low", "low", "middle", "high", "very high"),
            },
            {3: (0.3, 0.45, 0.25), 4: (0.22, 0.3, 0.3, 0.18), 5: (0.15, 0.22, 0.3, 0.2, 0.13)},
            100.0,
            0.6,
            0.0,
        ),
        _Template(
            "climate_concern",
            {
                3: ("not concerned", "somewhat concerned", "very concerned"),
                4: (
                    "not at all concerned",
                    "not very concerned",
                    "fairly concerned",
                    "very concerned",
                ),
                5: (
                    "not at all concerned",
                    "not very concerned",
                    "neither",
                    "fairly concerned",
                    "very concerned",
                ),
            },
            {3: (0.20, 0.42, 0.38), 4: (0.08, 0.14, 0.45, 0.33), 5: (0.07, 0.12, 0.10, 0.42, 0.29)},
            60.0,
            1.0,
            0.0,
        ),
        _Template(
            "employment",
            {
                3: ("employed", "not working", "retired"),
                4: ("employed", "unemployed", "retired", "student or other"),
                6: (
                    "employed full-time",
                    "employed part-time",
                    "self-employed",
                    "unemployed",
                    "retired",
                    "student or other",
                ),
            },
            {
                3: (0.60, 0.17, 0.23),
                4: (0.60, 0.04, 0.23, 0.13),
                6: (0.36, 0.13, 0.10, 0.04, 0.23, 0.14),
            },
            100.0,
            0.0,
            0.0,
        ),
        _Template(
            "occupation",
            {
                8: (
                    "higher managerial and professional",
                    "lower managerial and professional",
                    "intermediate",
                    "small employers and own account",
                    "lower supervisory and technical",
                    "semi-routine",
                    "routine",
                    "never worked or long-term unemployed",
                ),
            },
            {8: (0.13, 0.20, 0.12, 0.10, 0.06, 0.14, 0.12, 0.13)},
            100.0,
            -0.8,
            0.0,
        ),
        _Template(
            "disability",
            {2: ("no", "yes")},
            {2: (0.82, 0.18)},
            150.0,
            0.0,
            0.0,
        ),
        _Template(
            "trust_in_politics",
            {
                3: ("low", "medium", "high"),
                4: ("none", "a little", "some", "a lot"),
                5: ("none at all", "a little", "some", "quite a lot", "a great deal"),
            },
            {3: (0.45, 0.38, 0.17), 4: (0.30, 0.38, 0.24, 0.08), 5: (0.25, 0.33, 0.27, 0.11, 0.04)},
            60.0,
            0.6,
            0.0,
        ),
    ]
}

# For each value count, the named features to use, in order of preference.
_PREFERENCES: dict[int, tuple[str, ...]] = {
    2: ("gender", "area_type", "disability", "housing_tenure", "education", "ethnicity", "age"),
    3: (
        "education",
        "housing_tenure",
        "climate_concern",
        "area_type",
        "income",
        "trust_in_politics",
        "employment",
        "age",
        "gender",
    ),
    4: (
        "age",
        "income",
        "housing_tenure",
        "climate_concern",
        "trust_in_politics",
        "employment",
        "education",
    ),
    5: ("ethnicity", "climate_concern", "income", "trust_in_politics", "age", "education"),
    6: ("employment", "age", "education", "ethnicity"),
    8: ("occupation", "age"),
    12: ("region",),
}


@dataclass(frozen=True)
class _Feature:
    name: str
    values: tuple[str, ...]
    base_shares: np.ndarray
    concentration: float
    volunteer_slope: float
    household_share: float


def _choose_features(value_counts: Sequence[int]) -> list[_Feature]:
    """Named features where the catalogue has one for the count, ``feature{j}`` otherwise."""
    used: set[str] = set()
    features: list[_Feature] = []
    for j, count in enumerate(value_counts, start=1):
        template = next(
            (
                _TEMPLATES[name]
                for name in _PREFERENCES.get(count, ())
                if name not in used and count in _TEMPLATES[name].values
            ),
            None,
        )
        if template is not None:
            used.add(template.name)
            features.append(
                _Feature(
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
                _Feature(
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
# Public API
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedInstance:
    """A synthetic pool and its quotas.

    ``pool`` has the columns ``id``, ``household`` (only when asked for) and one column per feature,
    all strings; ``quotas`` has the columns ``feature``, ``value``, ``min``, ``max`` (integers).
    """

    pool: pd.DataFrame
    quotas: pd.DataFrame


def value_counts_for(features: int | None, preset: str | None) -> tuple[int, ...]:
    """The value count of each feature, from a preset (which wins) or a number of features.

    ``features=F`` without a preset takes the first F counts of 2, 3, 4, 5, 6, 8, 12, 2, 3, ...
    """
    if preset is not None:
        if preset not in PRESETS:
            known = ", ".join(sorted(PRESETS))
            raise InputError([Problem(f"unknown preset {preset!r}; the presets are {known}")])
        return PRESETS[preset]
    if features is None:
        raise InputError([Problem("give a number of features or a preset")])
    features = _as_int(features, "the number of features")
    if features < 1:
        raise InputError([Problem(f"the number of features must be at least 1, got {features}")])
    return tuple(_FEATURE_PATTERN[j % len(_FEATURE_PATTERN)] for j in range(features))


def _as_int(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise InputError([Problem(f"{what} must be an integer, got {value!r}")])
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise InputError([Problem(f"{what} must be an integer, got {value!r}")]) from None


def _validate(n: int, k: int, value_counts: Sequence[int]) -> tuple[int, int, tuple[int, ...]]:
    n = _as_int(n, "the pool size n")
    k = _as_int(k, "the panel size k")
    if n < 1:
        raise InputError([Problem(f"the pool size n must be at least 1, got {n}")])
    if k < 1:
        raise InputError([Problem(f"the panel size k must be at least 1, got {k}")])
    if k > n:
        raise InputError([Problem(f"the panel size k ({k}) cannot exceed the pool size n ({n})")])
    counts = tuple(_as_int(c, "a value count") for c in value_counts)
    if not counts:
        raise InputError([Problem("give at least one feature (value_counts is empty)")])
    for j, c in enumerate(counts, start=1):
        if c < 2:
            raise InputError(
                [Problem(f"every feature needs at least 2 values; feature {j} has {c}")]
            )
        if c > 1000:
            raise InputError([Problem(f"at most 1000 values per feature; feature {j} has {c}")])
    return n, k, counts


def generate_instance(
    n: int,
    k: int,
    value_counts: Sequence[int],
    seed: str,
    households: bool = False,
) -> GeneratedInstance:
    """A pool of ``n`` volunteers and quotas for a panel of ``k``, one feature per value count.

    The population model (shares, correlations, propensities) depends only on ``value_counts`` and
    ``seed``; the pool also on ``n``, the quotas also on ``k``.
    """
    n, k, counts = _validate(n, k, value_counts)
    features = _choose_features(counts)

    model_rng = numpy_generator(seed, "generate:model")
    shares = [_population_shares(f, model_rng) for f in features]
    correlation = _random_correlation(len(features), model_rng)
    propensities = _limit_selection([_propensities(f, model_rng) for f in features], shares)

    thresholds = [
        np.array([NormalDist().inv_cdf(min(max(c, 1e-12), 1 - 1e-12)) for c in np.cumsum(s)[:-1]])
        for s in shares
    ]
    codes = _draw_volunteers(
        n, correlation, thresholds, propensities, numpy_generator(seed, "generate:pool")
    )

    # Volunteers are independent draws, so the rows are already in random order.
    id_rng = numpy_generator(seed, "generate:ids")
    columns: dict[str, pd.Series] = {
        "id": _label_column("P", id_rng.permutation(n) + 1, max(6, len(str(n))))
    }
    if households:
        household_of = _assign_households(
            features, codes, numpy_generator(seed, "generate:households")
        )
        count = int(household_of.max()) + 1
        household_numbers = id_rng.permutation(count) + 1
        width = max(5, len(str(count)))
        columns["household"] = _label_column("H", household_numbers[household_of], width)
    for j, feature in enumerate(features):
        columns[feature.name] = _string_column(feature.values, codes[j])
    pool = pd.DataFrame(columns)

    quotas = _quotas(features, shares, codes, k)
    return GeneratedInstance(pool=pool, quotas=quotas)


def write_instance(instance: GeneratedInstance, out_dir: Path) -> tuple[Path, Path]:
    """Write ``pool.csv`` and ``quotas.csv`` (UTF-8, no index) into the existing ``out_dir``."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InputError([Problem(f"output folder {out_dir} does not exist")])
    pool_path = out_dir / "pool.csv"
    quotas_path = out_dir / "quotas.csv"
    _write_pool_csv(instance.pool, pool_path)
    instance.quotas.to_csv(quotas_path, index=False, encoding="utf-8", lineterminator="\n")
    return pool_path, quotas_path


def _write_pool_csv(pool: pd.DataFrame, path: Path) -> None:
    """Write the pool as pandas would (minimal quoting, ``\\n``), through pyarrow when possible.

    pyarrow writes a million rows in about half a second where pandas takes ten; it is used only
    when no value needs quoting, so both writers give the same bytes.
    """
    names = [str(c) for c in pool.columns]
    if all(_plain(name) for name in names):
        try:
            table = pa.Table.from_pandas(pool, preserve_index=False)
            options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
            with path.open("wb") as handle:
                handle.write((",".join(names) + "\n").encode("utf-8"))
                pa_csv.write_csv(table, handle, options)
            return
        except (pa.ArrowInvalid, TypeError):
            pass  # a value needs quoting, or an older pyarrow: fall back to pandas
    pool.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def _plain(text: str) -> bool:
    return text != "" and not any(c in text for c in ',"\r\n')


# --------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------


def _population_shares(feature: _Feature, rng: np.random.Generator) -> np.ndarray:
    """Skewed shares: a Dirichlet draw around the feature's plausible shares.

    Generic features get their geometric shares in a seeded order. Every share is at least 0.2 %.
    """
    base = feature.base_shares
    if feature.name.startswith("feature"):
        base = base[rng.permutation(len(base))]
    shares = rng.dirichlet(base * feature.concentration)
    shares = np.maximum(shares, 0.002)
    return np.asarray(shares / shares.sum(), dtype=float)


def _random_correlation(count: int, rng: np.random.Generator) -> np.ndarray:
    """A random correlation matrix from a two-factor model: moderate, mixed-sign correlations."""
    factors = min(2, count)
    loadings = rng.normal(0.0, 0.55, size=(count, factors))
    covariance = loadings @ loadings.T + np.diag(rng.uniform(0.4, 1.0, size=count))
    scale = 1.0 / np.sqrt(np.diag(covariance))
    correlation = covariance * scale[:, None] * scale[None, :]
    np.fill_diagonal(correlation, 1.0)
    return correlation


def _propensities(feature: _Feature, rng: np.random.Generator) -> np.ndarray:
    """Per-value log-propensities to volunteer: the feature's slope over its values, plus noise."""
    count = len(feature.values)
    position = np.linspace(-0.5, 0.5, count)
    slope = feature.volunteer_slope * rng.uniform(0.8, 1.25)
    log_p = slope * position + rng.normal(0.0, 0.15, size=count)
    return np.asarray(log_p - log_p.mean(), dtype=float)


def _limit_selection(propensities: list[np.ndarray], shares: list[np.ndarray]) -> list[np.ndarray]:
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


def _draw_volunteers(
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


def _assign_households(
    features: list[_Feature], codes: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """The household number of each volunteer (row); households have 1-6 members, mostly 1.

    Households fill consecutive slots, and the slots are scattered over the rows at random.
    Members copy the first member's household-level features (in place in ``codes``).
    """
    n = codes.shape[1]
    sizes = rng.choice(
        np.arange(1, len(_HOUSEHOLD_SIZE_SHARES) + 1), size=n, p=_HOUSEHOLD_SIZE_SHARES
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


def _string_dtype() -> object:
    """The dtype pandas gives a column of strings (``str`` in pandas 3, ``object`` before)."""
    return pd.Series(["x"]).dtype


def _arrow_strings(dtype: object) -> bool:
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _string_column(values: Sequence[str], codes: np.ndarray) -> pd.Series:
    """The column whose row ``r`` is ``values[codes[r]]``, in pandas' usual string dtype."""
    dtype = _string_dtype()
    if _arrow_strings(dtype):
        indices = pa.array(codes.astype(np.int32, copy=False))
        dictionary = pa.array(list(values), pa.large_string())
        taken = pa.DictionaryArray.from_arrays(indices, dictionary).dictionary_decode()
        return pd.Series(pd.array(taken, dtype=dtype))
    return pd.Series(np.array(values, dtype=object)[codes], dtype=dtype)  # type: ignore[call-overload]


def _label_column(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """Strings such as ``P000123``: ``prefix`` and ``numbers`` zero-padded to ``width`` digits."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if numbers.size:
        width = max(width, len(str(int(numbers.max()))))
    length = len(prefix) + width
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    raw = np.empty((numbers.size, length), dtype=np.uint8)
    raw[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    raw[:, len(prefix) :] = (numbers[:, None] // powers[None, :]) % 10 + ord("0")
    dtype = _string_dtype()
    if _arrow_strings(dtype):
        offsets = np.arange(numbers.size + 1, dtype=np.int64) * length
        strings = pa.LargeStringArray.from_buffers(
            numbers.size, pa.py_buffer(offsets), pa.py_buffer(raw.tobytes())
        )
        return pd.Series(pd.array(strings, dtype=dtype))
    fixed = raw.view(f"S{length}").ravel().astype(f"U{length}").astype(object)
    return pd.Series(fixed, dtype=dtype)  # type: ignore[call-overload]


def _quotas(
    features: list[_Feature], shares: list[np.ndarray], codes: np.ndarray, k: int
) -> pd.DataFrame:
    """Quotas from the population shares, made possible for this pool one feature at a time."""
    rows_feature: list[str] = []
    rows_value: list[str] = []
    rows_min: list[int] = []
    rows_max: list[int] = []
    for j, feature in enumerate(features):
        ideal = shares[j] * k
        nearest = np.rint(ideal)
        exact = np.abs(ideal - nearest) < 1e-9
        low = np.where(exact, nearest, np.floor(ideal)).astype(np.int64)
        high = np.where(exact, nearest, np.ceil(ideal)).astype(np.int64)
        available = np.bincount(codes[j], minlength=len(feature.values)).astype(np.int64)
        low = np.minimum(low, available)
        # Raise maxima, largest shortfall first, until the pool can fill k seats on this feature.
        missing = k - int(np.minimum(high, available).sum())
        if missing > 0:
            for i in np.argsort(-(ideal - np.minimum(high, available)), kind="stable"):
                spare = int(available[i] - high[i])
                if spare <= 0:
                    continue
                take = min(spare, missing)
                high[i] += take
                missing -= take
                if missing == 0:
                    break
        low = np.minimum(low, high)
        rows_feature.extend([feature.name] * len(feature.values))
        rows_value.extend(feature.values)
        rows_min.extend(int(x) for x in low)
        rows_max.extend(int(x) for x in high)
    return pd.DataFrame(
        {
            "feature": pd.Series(rows_feature, dtype=_string_dtype()),  # type: ignore[call-overload]
            "value": pd.Series(rows_value, dtype=_string_dtype()),  # type: ignore[call-overload]
            "min": pd.Series(rows_min, dtype=np.int64),
            "max": pd.Series(rows_max, dtype=np.int64),
        }
    )
