"""Tests of the synthetic pool generator (sortition.synthetic.pools)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from sortition.errors import InputError
from sortition.synthetic.pools import (
    PRESETS,
    GeneratedInstance,
    generate_instance,
    value_counts_for,
    write_instance,
)
from sortition.synthetic.registries import MAX_ROWS
from tests.helpers import run_cli


@pytest.fixture(scope="module")
def big() -> GeneratedInstance:
    """A realistic10 pool large enough for statistical checks."""
    return generate_instance(20_000, 100, PRESETS["realistic10"], "test-seed")


@pytest.fixture(scope="module")
def with_households() -> GeneratedInstance:
    return generate_instance(5_000, 60, PRESETS["realistic7"], "households", households=True)


def _feature_columns(instance: GeneratedInstance) -> list[str]:
    return [c for c in instance.pool.columns if c not in ("id", "household")]


# --- value counts and presets --------------------------------------------------------------------


def test_presets_value_counts() -> None:
    assert PRESETS == {
        "realistic4": (2, 3, 4, 5),
        "realistic7": (2, 3, 4, 5, 6, 8, 12),
        "realistic10": (2, 2, 3, 3, 4, 4, 5, 6, 8, 12),
    }
    for name, counts in PRESETS.items():
        assert value_counts_for(None, name) == counts


def test_preset_wins_over_features() -> None:
    assert value_counts_for(3, "realistic4") == (2, 3, 4, 5)


def test_features_cycle_through_pattern() -> None:
    assert value_counts_for(1, None) == (2,)
    assert value_counts_for(4, None) == (2, 3, 4, 5)
    assert value_counts_for(9, None) == (2, 3, 4, 5, 6, 8, 12, 2, 3)


@pytest.mark.parametrize(
    ("features", "preset", "message"),
    [
        (None, None, "number of features or a preset"),
        (0, None, "at least 1"),
        (-2, None, "at least 1"),
        (None, "realistic5", "unknown preset"),
    ],
)
def test_value_counts_for_errors(features: int | None, preset: str | None, message: str) -> None:
    with pytest.raises(InputError, match=message):
        value_counts_for(features, preset)


# --- shapes, names, quotas -----------------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_shapes_and_quotas(preset: str) -> None:
    counts = PRESETS[preset]
    instance = generate_instance(700, 40, counts, f"shape-{preset}")
    pool, quotas = instance.pool, instance.quotas
    features = _feature_columns(instance)
    assert list(pool.columns) == ["id", *features]
    assert len(pool) == 700
    assert len(features) == len(counts) == len(set(features))
    assert list(quotas.columns) == ["feature", "value", "min", "max"]
    assert list(quotas["feature"].drop_duplicates()) == features
    for feature, count in zip(features, counts, strict=True):
        rows = quotas[quotas["feature"] == feature]
        assert len(rows) == count
        assert rows["value"].is_unique
        # every pool value has a quota row
        assert set(pool[feature]) <= set(rows["value"])
        assert (rows["min"] <= rows["max"]).all()
        assert (rows["min"] >= 0).all()
        assert rows["min"].sum() <= 40 <= rows["max"].sum()
        # nobody is asked for who is not there, and the pool can fill the panel on each feature
        available = pool[feature].value_counts()
        have = rows["value"].map(available).fillna(0).astype(int)
        assert (rows["min"] <= have).all()
        assert np.minimum(rows["max"], have).sum() >= 40
    assert pd.api.types.is_integer_dtype(quotas["min"])
    assert pd.api.types.is_integer_dtype(quotas["max"])


def test_all_pool_columns_are_strings(big: GeneratedInstance) -> None:
    pool = big.pool
    for column in pool.columns:
        assert pd.api.types.is_string_dtype(pool[column]), column
        assert all(isinstance(v, str) for v in pool[column].iloc[:50])


def test_named_features(big: GeneratedInstance) -> None:
    features = _feature_columns(big)
    assert features[0] == "gender"
    assert {"gender", "age", "education", "region", "ethnicity"} <= set(features)
    assert set(big.pool["gender"]) == {"female", "male"}
    assert big.pool["region"].nunique() == 12
    assert "London" in set(big.pool["region"])


def test_generic_feature_names() -> None:
    instance = generate_instance(300, 10, (2, 7, 7), "generic")
    features = _feature_columns(instance)
    assert features[0] == "gender"
    assert features[1:] == ["feature2", "feature3"]
    assert set(instance.pool["feature2"]) <= {f"v{i}" for i in range(1, 8)}


def test_many_features_have_unique_names() -> None:
    counts = value_counts_for(30, None)
    instance = generate_instance(200, 20, counts, "many")
    features = _feature_columns(instance)
    assert len(features) == 30 == len(set(features))


def test_ids_unique_strings_not_in_row_order(big: GeneratedInstance) -> None:
    ids = big.pool["id"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"P\d{6}").all()
    assert not ids.is_monotonic_increasing
    assert sorted(ids) == [f"P{i:06d}" for i in range(1, len(ids) + 1)]


def test_marginals_skewed_not_uniform(big: GeneratedInstance) -> None:
    quotas = big.quotas
    for feature, rows in quotas.groupby("feature", sort=False):
        if len(rows) > 2:
            mids = (rows["min"] + rows["max"]) / 2
            assert mids.max() - mids.min() >= 2, feature


# --- determinism ---------------------------------------------------------------------------------


def test_deterministic(tmp_path: Path) -> None:
    first = generate_instance(3_000, 50, PRESETS["realistic7"], "same", households=True)
    second = generate_instance(3_000, 50, PRESETS["realistic7"], "same", households=True)
    pd.testing.assert_frame_equal(first.pool, second.pool)
    pd.testing.assert_frame_equal(first.quotas, second.quotas)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    paths_a = write_instance(first, a)
    paths_b = write_instance(second, b)
    for path_a, path_b in zip(paths_a, paths_b, strict=True):
        assert path_a.read_bytes() == path_b.read_bytes()


def test_seed_matters() -> None:
    first = generate_instance(500, 20, PRESETS["realistic4"], "one")
    second = generate_instance(500, 20, PRESETS["realistic4"], "two")
    assert not first.pool.equals(second.pool)


def test_population_model_does_not_depend_on_n() -> None:
    small = generate_instance(500, 50, PRESETS["realistic7"], "model")
    large = generate_instance(5_000, 50, PRESETS["realistic7"], "model")
    pd.testing.assert_frame_equal(
        small.quotas.drop(columns=["min", "max"]), large.quotas.drop(columns=["min", "max"])
    )


# --- writing -------------------------------------------------------------------------------------


def test_write_instance_round_trip(tmp_path: Path) -> None:
    instance = generate_instance(400, 30, PRESETS["realistic10"], "write", households=True)
    pool_path, quotas_path = write_instance(instance, tmp_path)
    assert pool_path == tmp_path / "pool.csv"
    assert quotas_path == tmp_path / "quotas.csv"
    assert pool_path.read_bytes().startswith(b"id,household,gender,")
    assert quotas_path.read_bytes().startswith(b"feature,value,min,max\n")
    pool = pd.read_csv(pool_path, dtype=str, keep_default_na=False)
    quotas = pd.read_csv(quotas_path, keep_default_na=False)
    assert pool.astype(object).equals(instance.pool.astype(object))
    assert quotas.astype(object).equals(instance.quotas.astype(object))


def test_written_pool_matches_pandas_bytes(tmp_path: Path) -> None:
    instance = generate_instance(300, 30, PRESETS["realistic10"], "bytes", households=True)
    pool_path, _ = write_instance(instance, tmp_path)
    expected = instance.pool.to_csv(index=False, lineterminator="\n").encode("utf-8")
    assert pool_path.read_bytes() == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--n", "10", "-k", "20", "--preset", "realistic4"], "cannot exceed"),
        (["generate", "--n", "10", "-k", "2"], "give a number of features or a preset"),
        (["generate-registry", "--rows", str(MAX_ROWS + 1)], "at most"),
    ],
)
def test_bad_generator_arguments_are_bad_input(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """The generators raise InputError: exit 2 with the message, never an internal error."""
    result = run_cli([*args, "--seed", "g", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.stderr
    assert "bad input" in result.stderr and message in result.stderr
    assert not (tmp_path / "out").exists()


def test_write_instance_needs_existing_folder(tmp_path: Path) -> None:
    instance = generate_instance(10, 2, (2, 3), "folder")
    with pytest.raises(InputError, match="does not exist"):
        write_instance(instance, tmp_path / "missing")


# --- households ----------------------------------------------------------------------------------


def test_households(with_households: GeneratedInstance) -> None:
    pool = with_households.pool
    assert list(pool.columns[:2]) == ["id", "household"]
    assert pool["household"].str.fullmatch(r"H\d{5}").all()
    sizes = pool["household"].value_counts()
    assert sizes.min() >= 1
    assert sizes.max() <= 6
    assert sizes.max() >= 3  # some larger households exist
    by_size = sizes.value_counts()
    assert by_size[1] > by_size[2] > by_size.get(4, 0)  # mostly single, skewed
    # members of a household are not adjacent rows all the time
    assert not pool["household"].is_monotonic_increasing
    # members share their region
    shared = pool.groupby("household")["region"].nunique()
    assert (shared == 1).all()


def test_no_household_column_by_default(big: GeneratedInstance) -> None:
    assert "household" not in big.pool.columns


# --- realism -------------------------------------------------------------------------------------


def test_self_selection_visible(big: GeneratedInstance) -> None:
    pool, quotas = big.pool, big.quotas
    k = 100
    gaps = []
    for row in quotas.itertuples(index=False):
        target = (row.min + row.max) / 2 / k
        share = float((pool[row.feature] == row.value).mean())
        gaps.append(abs(share - target))
    assert max(gaps) > 0.05
    # and in the direction the model intends: degree holders and the old over-represented
    degree = quotas[(quotas["feature"] == "education") & (quotas["value"] == "degree or higher")]
    assert (pool["education"] == "degree or higher").mean() > degree["max"].iloc[0] / k


def _chi_square(table: pd.DataFrame) -> tuple[float, int]:
    observed = table.to_numpy(dtype=float)
    expected = observed.sum(1, keepdims=True) * observed.sum(0, keepdims=True) / observed.sum()
    statistic = float(((observed - expected) ** 2 / expected).sum())
    dof = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    return statistic, dof


def test_features_correlated(big: GeneratedInstance) -> None:
    pool = big.pool
    features = _feature_columns(big)
    strongest = 0.0
    for i, first in enumerate(features):
        for second in features[i + 1 :]:
            statistic, dof = _chi_square(pd.crosstab(pool[first], pool[second]))
            # generous: an independent pair has statistic about dof (sd about sqrt(2 dof))
            strongest = max(strongest, (statistic - dof) / np.sqrt(2 * dof))
    assert strongest > 50


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "k", "counts", "message"),
    [
        (0, 1, (2,), "pool size n must be at least 1"),
        (10, 0, (2,), "panel size k must be at least 1"),
        (10, 11, (2,), "cannot exceed"),
        (10, 2, (2, 1), "at least 2 values"),
        (10, 2, (), "at least one feature"),
        (10, 2, (2.5,), "integer"),
        (True, 1, (2,), "integer"),
    ],
)
def test_bad_arguments(n: int, k: int, counts: tuple[int, ...], message: str) -> None:
    with pytest.raises(InputError, match=message):
        generate_instance(n, k, counts, "bad")


@pytest.mark.parametrize("households", [False, True])
def test_tiny_instances(households: bool) -> None:
    instance = generate_instance(1, 1, (2, 12), "tiny", households=households)
    assert len(instance.pool) == 1
    quotas = instance.quotas
    for _, rows in quotas.groupby("feature"):
        assert rows["min"].sum() <= 1 <= np.minimum(rows["max"], 1).sum()
    instance = generate_instance(5, 5, (300,), "wide")
    assert len(instance.quotas) == 300


# --- the bundled example --------------------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "example"


def _load_make_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_example", EXAMPLE.parent / "make_example.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_example_files_are_consistent() -> None:
    pool = pd.read_csv(EXAMPLE / "pool.csv", dtype=str, keep_default_na=False)
    quotas = pd.read_csv(EXAMPLE / "quotas.csv", keep_default_na=False)
    assert list(pool.columns) == [
        "id", "first_name", "last_name", "email", "address", "postcode",
        "gender", "age", "area", "education",
    ]  # fmt: skip
    assert 150 <= len(pool) <= 250
    assert pool["id"].is_unique and pool["email"].is_unique
    assert not pool["id"].is_monotonic_increasing
    households = pool.groupby(["address", "postcode"]).size()
    assert 10 <= int((households > 1).sum()) <= 15
    assert households.max() <= 3
    names = "".join(pool["first_name"])
    assert any("\u0590" <= c <= "\u05ff" for c in names)  # Hebrew script
    assert any("\u0600" <= c <= "\u06ff" for c in names)  # Arabic script
    k = 20
    for feature in ["gender", "age", "area", "education"]:
        rows = quotas[quotas["feature"] == feature]
        assert set(pool[feature]) == set(rows["value"])
        assert rows["min"].sum() <= k <= rows["max"].sum()
        assert (rows["min"] <= rows["max"]).all()


def test_example_files_are_reproducible() -> None:
    make_example = _load_make_example()
    pool = make_example.make_pool()
    expected = (EXAMPLE / "pool.csv").read_bytes()
    assert pool.to_csv(index=False, lineterminator="\n").encode("utf-8") == expected
    quotas = make_example.quotas(make_example.K)
    expected = (EXAMPLE / "quotas.csv").read_bytes()
    assert quotas.to_csv(index=False, lineterminator="\n").encode("utf-8") == expected
