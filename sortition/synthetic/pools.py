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

The steps live in ``sortition.synthetic.population``; the catalogue of named features (values,
shares, propensities) is data, ``sortition/synthetic/catalogue.json``. Every random choice comes
from :func:`sortition.randomness.numpy_generator`, so the same arguments and seed give the same
pool, byte for byte.
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

from sortition.errors import N_, InputError, Message, problem
from sortition.io.outputs import csv_encoding
from sortition.randomness import numpy_generator
from sortition.synthetic.population import (
    Feature,
    assign_households,
    choose_features,
    draw_volunteers,
    limit_selection,
    log_propensities,
    population_shares,
    random_correlation,
)

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
            raise InputError(
                [
                    problem(
                        N_("unknown preset {preset}; the presets are {known}"),
                        preset=repr(preset),
                        known=known,
                    )
                ]
            )
        return PRESETS[preset]
    if features is None:
        raise InputError([problem(N_("give a number of features or a preset"))])
    features = _as_int(features, Message(N_("the number of features")))
    if features < 1:
        raise InputError(
            [problem(N_("the number of features must be at least 1, got {got}"), got=features)]
        )
    return tuple(_FEATURE_PATTERN[j % len(_FEATURE_PATTERN)] for j in range(features))


def _as_int(value: object, what: Message) -> int:
    not_integer = problem(N_("{what} must be an integer, got {got}"), what=what, got=repr(value))
    if isinstance(value, bool):
        raise InputError([not_integer])
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise InputError([not_integer]) from None


def _validate(n: int, k: int, value_counts: Sequence[int]) -> tuple[int, int, tuple[int, ...]]:
    n = _as_int(n, Message(N_("the pool size n")))
    k = _as_int(k, Message(N_("the panel size k")))
    if n < 1:
        raise InputError([problem(N_("the pool size n must be at least 1, got {got}"), got=n)])
    if k < 1:
        raise InputError([problem(N_("the panel size k must be at least 1, got {got}"), got=k)])
    if k > n:
        raise InputError(
            [problem(N_("the panel size k ({k}) cannot exceed the pool size n ({n})"), k=k, n=n)]
        )
    counts = tuple(_as_int(c, Message(N_("a value count"))) for c in value_counts)
    if not counts:
        raise InputError([problem(N_("give at least one feature (value_counts is empty)"))])
    for j, c in enumerate(counts, start=1):
        if c < 2:
            raise InputError(
                [
                    problem(
                        N_("every feature needs at least 2 values; feature {feature} has {count}"),
                        feature=j,
                        count=c,
                    )
                ]
            )
        if c > 1000:
            raise InputError(
                [
                    problem(
                        N_("at most 1000 values per feature; feature {feature} has {count}"),
                        feature=j,
                        count=c,
                    )
                ]
            )
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
    features = choose_features(counts)

    model_rng = numpy_generator(seed, "generate:model")
    shares = [population_shares(f, model_rng) for f in features]
    correlation = random_correlation(len(features), model_rng)
    propensities = limit_selection([log_propensities(f, model_rng) for f in features], shares)

    thresholds = [
        np.array([NormalDist().inv_cdf(min(max(c, 1e-12), 1 - 1e-12)) for c in np.cumsum(s)[:-1]])
        for s in shares
    ]
    codes = draw_volunteers(
        n, correlation, thresholds, propensities, numpy_generator(seed, "generate:pool")
    )

    # Volunteers are independent draws, so the rows are already in random order.
    id_rng = numpy_generator(seed, "generate:ids")
    columns: dict[str, pd.Series] = {
        "id": _label_column("P", id_rng.permutation(n) + 1, max(6, len(str(n))))
    }
    if households:
        household_of = assign_households(
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
        raise InputError([problem(N_("output folder {folder} does not exist"), folder=out_dir)])
    pool_path = out_dir / "pool.csv"
    quotas_path = out_dir / "quotas.csv"
    _write_pool_csv(instance.pool, pool_path)
    instance.quotas.to_csv(quotas_path, index=False, encoding=csv_encoding(), lineterminator="\n")
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
                handle.write((",".join(names) + "\n").encode(csv_encoding()))
                pa_csv.write_csv(table, handle, options)
            return
        except (pa.ArrowInvalid, TypeError):
            pass  # a value needs quoting, or an older pyarrow: fall back to pandas
    pool.to_csv(path, index=False, encoding=csv_encoding(), lineterminator="\n")


def _plain(text: str) -> bool:
    return text != "" and not any(c in text for c in ',"\r\n')


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
    features: list[Feature], shares: list[np.ndarray], codes: np.ndarray, k: int
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
