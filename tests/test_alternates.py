"""Alternates: the exact best subset against brute force, the greedy estimate as an upper bound,
the local search never worse than its start, the dropout models (scenarios, per-value rates, the
fitted product model), and `sortition alternates` end to end."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.dropouts.models import fit_product_model, per_value_model, uniform_model
from sortition.engine import alternates as al
from sortition.engine.dropout_model import draw_scenarios
from sortition.errors import InputError
from sortition.io.outputs import json_text
from sortition.model import Instance, Pool, Quotas, ValueQuota
from sortition.randomness import SeededStream
from sortition.record.replacement import alternates_pick
from sortition.verify.service import verify_record
from tests.helpers import CaseCount, run_cli, select_args

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "example"


def _units(incidence: np.ndarray, capacity: list[int]) -> al.Units:
    members, start = [], 0
    for c in capacity:
        members.append(np.arange(start, start + c, dtype=np.int64))
        start += c
    return al.Units(tuple(members), incidence, ())


def _brute_force(
    incidence: np.ndarray, capacity: list[int], fixed: np.ndarray, size: int, low, high
) -> int:
    best = None
    ranges = [range(c + 1) for c in capacity]
    for counts in itertools.product(*ranges):
        if sum(counts) != size:
            continue
        total = fixed + np.array(counts) @ incidence
        value = al.deviation(total, low, high)
        best = value if best is None else min(best, value)
    assert best is not None
    return best


_cases = st.tuples(
    st.integers(1, 4),  # features
    st.integers(2, 3),  # values per feature
    st.integers(1, 5),  # units
    st.integers(0, 2**32 - 1),
)


@given(case=_cases)
@settings(max_examples=60, deadline=None)
def test_best_subset_is_the_brute_force_optimum(case: tuple[int, int, int, int]) -> None:
    features, per, n_units, seed = case
    rng = np.random.default_rng(seed)
    n_values = features * per
    incidence = np.zeros((n_units, n_values), dtype=np.int64)
    for u in range(n_units):
        for f in range(features):
            incidence[u, f * per + int(rng.integers(per))] = 1
    capacity = [int(c) for c in rng.integers(1, 4, size=n_units)]
    size = int(rng.integers(1, sum(capacity) + 1))
    fixed = rng.integers(0, 4, size=n_values)
    low = rng.integers(0, 4, size=n_values)
    high = low + rng.integers(0, 3, size=n_values)
    units = _units(incidence, capacity)
    value, chosen = al.best_subset(
        units, np.array(capacity), fixed, size, low.astype(np.int64), high.astype(np.int64)
    )
    assert value == _brute_force(incidence, capacity, fixed, size, low, high)
    assert int(chosen.sum()) == size and (chosen <= np.array(capacity)).all()
    assert al.deviation(fixed + chosen @ incidence, low, high) == value
    # the greedy estimate the search uses is never below the optimum
    items = np.repeat(incidence, chosen.tolist() if chosen.sum() else [0] * n_units, axis=0)
    if len(items):
        greedy = al._greedy_losses(
            items[None], fixed[None].astype(np.int64), np.array([size]), low, high
        )
        assert int(greedy[0, 0]) >= value


def test_scenarios_follow_the_model() -> None:
    none = draw_scenarios(np.ones(50), 20, SeededStream("s"))
    assert not none.any()
    half = draw_scenarios(np.full(200, 0.5), 50, SeededStream("s"))
    assert 0.45 < half.mean() < 0.55
    again = draw_scenarios(np.full(200, 0.5), 50, SeededStream("s"))
    assert (half == again).all()


def _quotas() -> Quotas:
    rows = [ValueQuota("age", a, 0, 9) for a in ("old", "young")]
    rows += [ValueQuota("gender", g, 0, 9) for g in ("female", "male")]
    return Quotas(tuple(rows))


def test_fitted_product_model_recovers_the_rates(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    beta0, young, male = 0.95, 0.8, 0.9  # P(stay) = 0.95 x 0.8 if young x 0.9 if male
    lines = ["age,gender,dropped"]
    for _ in range(20000):
        age, gender = rng.choice(["old", "young"]), rng.choice(["female", "male"])
        stay = beta0 * (young if age == "young" else 1) * (male if gender == "male" else 1)
        lines.append(f"{age},{gender},{int(rng.random() >= stay)}")
    path = tmp_path / "history.csv"
    path.write_text("\n".join(lines) + "\n")
    model = fit_product_model(path, _quotas())
    assert model.beta0 == pytest.approx(beta0, abs=0.02)
    assert model.beta[("age", "young")] == pytest.approx(young, abs=0.02)
    assert model.beta[("gender", "male")] == pytest.approx(male, abs=0.02)
    assert model.beta.get(("age", "old"), 1.0) == pytest.approx(1.0, abs=0.02)


def test_per_value_rates_and_their_errors(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text("feature,value,rate\nage,young,0.2\ngender,male,0.1\n")
    model = per_value_model(path, _quotas())
    stay = model.stay_probability(_quotas(), np.array([[1, 3], [0, 2]]))
    assert stay == pytest.approx([0.8 * 0.9, 1.0])
    path.write_text("feature,value,rate\nage,young,1.5\nage,middle,0.1\n")
    with pytest.raises(InputError) as error:
        per_value_model(path, _quotas())
    assert "rates.csv, row 2, column 'rate'" in str(error.value)
    assert "rates.csv, row 3: age middle is not a quota value" in str(error.value)
    with pytest.raises(InputError):
        uniform_model(1.0)


def _greedy_total(
    incidence: np.ndarray, counts: np.ndarray, scenarios: al.Scenarios, low, high
) -> int:
    items = np.repeat(incidence, counts.tolist(), axis=0)
    losses = al._greedy_losses(items[None], scenarios.stay_counts, scenarios.sizes, low, high)
    return int(losses.sum())


def test_local_search_never_worse_than_its_start() -> None:
    counted = CaseCount("local search cases that improved on their start")
    for seed in range(20):
        rng = np.random.default_rng(seed)
        n_values = 6
        incidence = np.zeros((12, n_values), dtype=np.int64)
        for u in range(12):
            incidence[u, int(rng.integers(3))] = 1
            incidence[u, 3 + int(rng.integers(3))] = 1
        units = _units(incidence, [2] * 12)
        stay = rng.integers(0, 4, size=(30, n_values))
        scenarios = al.Scenarios(
            np.zeros((30, 1), dtype=bool), stay.astype(np.int64), rng.integers(0, 4, size=30)
        )
        low = np.full(n_values, 2, dtype=np.int64)
        high = np.full(n_values, 3, dtype=np.int64)
        start = np.zeros(12, dtype=np.int64)
        start[:3] = 1
        found = al.local_search(units, np.arange(12), scenarios, low, high, start)
        assert int(found.sum()) == 3

        before = _greedy_total(incidence, start, scenarios, low, high)
        after = _greedy_total(incidence, found, scenarios, low, high)
        assert after <= before
        if after < before:
            counted.check()
        else:
            counted.pass_over()
    counted.require(10)


@pytest.fixture(scope="module")
def example_panel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("alternates")
    args = select_args(
        EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, "--household-columns",
        "address,postcode", seed="s", out=folder / "panel",
    )  # fmt: skip
    assert run_cli(args).exit_code == 0
    return folder


def _alternates(folder: Path, out: str, *extra: str) -> object:
    return run_cli(
        ["alternates", "--record", folder / "panel/record.json", "--pool",
         EXAMPLE / "pool.csv", "--budget", "4", "--seed", "a", "--evaluate", "200",
         "--scenarios", "40", "--out", folder / out, *extra]
    )  # fmt: skip


def test_alternates_end_to_end(example_panel: Path) -> None:
    first = _alternates(example_panel, "one", "--dropout-rate", "0.1")
    assert first.exit_code == 0, first.stderr  # type: ignore[attr-defined]
    _alternates(example_panel, "two", "--dropout-rate", "0.1")
    for name in ("alternates.json", "alternates.csv", "comparison.csv"):
        assert (example_panel / "one" / name).read_bytes() == (
            example_panel / "two" / name
        ).read_bytes()
    record = json.loads((example_panel / "one/alternates.json").read_text())
    panel = json.loads((example_panel / "panel/record.json").read_text())
    assert record["kind"] == "alternates" and len(record["alternates"]) == 4
    assert not set(record["alternates"]) & set(panel["panel"])
    figures = record["figures"]
    assert figures["optimal"]["mean_deviation"] <= figures["scaled quotas"]["mean_deviation"]
    assert figures["optimal"]["mean_deviation"] <= figures["nearest neighbour"]["mean_deviation"]
    assert figures["optimal"]["mean_deviation"] < figures["no alternates"]["mean_deviation"]


def test_alternates_needs_exactly_one_model(example_panel: Path) -> None:
    result = _alternates(example_panel, "x")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    result = _alternates(example_panel, "x", "--dropout-rate", "0.1", "--fit-dropouts", "h.csv")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert not (example_panel / "x").exists()


def test_replace_from_alternates_then_verify(example_panel: Path) -> None:
    assert _alternates(example_panel, "pick", "--dropout-rate", "0.1").exit_code == 0  # type: ignore[attr-defined]
    panel = json.loads((example_panel / "panel/record.json").read_text())["panel"]
    args = ["replace", "--record", example_panel / "panel/record.json", "--pool",
            EXAMPLE / "pool.csv", "--dropout", panel[0], "--dropout", panel[5],
            "--from-alternates", example_panel / "pick", "--out", example_panel / "fa"]  # fmt: skip
    result = run_cli(args)
    assert result.exit_code == 0, result.stderr
    path = example_panel / "fa/replacement.json"
    record = json.loads(path.read_text())
    alternates = json.loads((example_panel / "pick/alternates.json").read_text())["alternates"]
    assert set(record["replacements"]) <= set(alternates)
    assert run_cli(["verify", path]).exit_code == 0
    # a pick that is not a best subset fails on its item
    others = [p for p in record["pool"] if p["id"] not in record["replacements"]]
    if others:
        record["replacements"] = sorted([*record["replacements"][1:], others[0]["id"]])
        path.write_text(json_text(record), encoding="utf-8")
        report = verify_record(path)
        assert not report.item("round 1: best subset").ok
    # a seed is refused: the best subset is exact
    result = run_cli([*args[:-1], example_panel / "fb", "--seed", "x"])
    assert result.exit_code == 2 and not (example_panel / "fb").exists()


@given(seed=st.integers(0, 2**32 - 1))
@settings(max_examples=25, deadline=None)
def test_alternates_pick_is_the_brute_force_best(seed: int) -> None:
    rng = np.random.default_rng(seed)
    quotas = _quotas()
    people = int(rng.integers(1, 7))
    values = np.column_stack([rng.integers(0, 2, people), rng.integers(2, 4, people)])
    households = None
    if rng.random() < 0.5:  # numbered by first appearance, as in a canonical pool
        raw, numbers = rng.integers(0, 4, people).tolist(), {}
        households = np.array([numbers.setdefault(h, len(numbers)) for h in raw])
    pool = Pool(
        tuple(f"a{i}" for i in range(people)), values.astype(np.int64),
        None if households is None else households.astype(np.int64),
        np.arange(people, dtype=np.int64),
    )  # fmt: skip
    low = rng.integers(0, 3, 4)
    rows = tuple(
        ValueQuota(q.feature, q.value, int(lo), int(lo + rng.integers(0, 2)))
        for q, lo in zip(quotas.rows, low, strict=True)
    )
    instance = Instance(pool, Quotas(rows), int(rng.integers(1, 4)))
    value, picked = alternates_pick(instance)
    size = min(instance.k, pool.household_count())
    best = None
    for chosen in itertools.combinations(range(people), size):
        if households is not None and len(set(households[list(chosen)])) < size:
            continue
        counts = instance.panel_counts(np.array(chosen, dtype=np.int64))
        d = al.deviation(counts, instance.quotas.mins, instance.quotas.maxs)
        best = d if best is None else min(best, d)
    assert best is not None
    assert value == best and int(picked.sum()) == size


def test_verify_alternates_and_tampering(example_panel: Path) -> None:
    assert _alternates(example_panel, "check", "--dropout-rate", "0.1").exit_code == 0  # type: ignore[attr-defined]
    path = example_panel / "check/alternates.json"
    result = run_cli(["verify", path])
    assert result.exit_code == 0, result.stdout
    assert "[ok] alternates:" in result.stdout and "[ok] figures:" in result.stdout
    record = json.loads(path.read_text())
    panel = set(record["previous"]["panel"])
    outsider = next(r["id"] for r in record["previous"]["pool"]
                    if r["id"] not in panel and r["id"] not in record["alternates"])  # fmt: skip
    record["alternates"] = sorted([*record["alternates"][1:], outsider])
    record["figures"]["optimal"]["mean_deviation"] /= 2
    path.write_text(json_text(record), encoding="utf-8")
    report = verify_record(path)
    assert not report.item("alternates").ok and not report.item("figures").ok
    assert report.item("baselines").ok
    assert run_cli(["verify", path, "--recompute"]).exit_code == 2


def test_from_alternates_refusals(example_panel: Path) -> None:
    assert _alternates(example_panel, "refuse", "--dropout-rate", "0.1").exit_code == 0  # type: ignore[attr-defined]
    alternates = json.loads((example_panel / "refuse/alternates.json").read_text())["alternates"]
    panel = json.loads((example_panel / "panel/record.json").read_text())["panel"]
    (example_panel / "declined.txt").write_text("\n".join(alternates) + "\n")
    base = ["replace", "--pool", EXAMPLE / "pool.csv", "--dropout", panel[0],
            "--from-alternates", example_panel / "refuse"]  # fmt: skip
    # every alternate declined: nobody is left, exit 3 and nothing written
    result = run_cli([*base, "--record", example_panel / "panel/record.json", "--unavailable",
                      example_panel / "declined.txt", "--out", example_panel / "none"])  # fmt: skip
    assert result.exit_code == 3 and "none of the alternates is left" in result.stderr
    assert not (example_panel / "none").exists()
    # alternates chosen for another panel
    other = select_args(
        EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, "--household-columns",
        "address,postcode", seed="other", out=example_panel / "other",
    )  # fmt: skip
    assert run_cli(other).exit_code == 0
    member = json.loads((example_panel / "other/record.json").read_text())["panel"][0]
    base[4] = member
    result = run_cli([*base, "--record", example_panel / "other/record.json", "--out",
                      example_panel / "wrong"])  # fmt: skip
    assert result.exit_code == 2 and "was chosen for another panel" in result.stderr


def alternates_possible(
    people: list[dict[str, str]], panel: set[str], gone: set[str], households: bool
) -> int:
    """How many alternates a panel can have, counted from the pool file's rows: the people not
    on the panel nor gone; with the household rule, not in a member's household either, and
    counted by household (at most one alternate a household)."""
    home = (lambda p: (p["address"], p["postcode"])) if households else (lambda p: p["id"])
    taken = {home(p) for p in people if p["id"] in panel} if households else set()
    left = [p for p in people if p["id"] not in panel | gone and home(p) not in taken]
    return len({home(p) for p in left})


def test_check_alternates_counts_the_candidates_and_refuses_more(
    example_panel: Path, tmp_path: Path
) -> None:
    """sortition.check_alternates: the number of alternates the panel can have (counted here
    from the files, by household: 175 people off the panel and its households live in 167),
    that many accepted and chosen, one more refused naming the record, as ``alternates``
    refuses it (exit 2, nothing written: it used to fail after the scenarios, exit 3); after a
    replacement round, without its dropouts and the declined; without a household rule, every
    volunteer off the panel; a pool file written again since the draw refused naming it, by
    the command too."""
    import sortition

    record, pool = example_panel / "panel/record.json", EXAMPLE / "pool.csv"
    with pool.open(encoding="utf-8", newline="") as rows:
        people = list(csv.DictReader(rows))
    members = json.loads(record.read_text(encoding="utf-8"))["panel"]
    panel = set(members)
    expected = alternates_possible(people, panel, set(), households=True)
    assert expected == 167  # 175 people, some of them sharing a household
    assert sortition.check_alternates(record, pool, 1) == expected
    assert sortition.check_alternates(record, pool, expected) == expected
    for budget in (expected + 1, 0):
        with pytest.raises(InputError) as refused:
            sortition.check_alternates(record, pool, budget)
        assert str(budget) in str(refused.value.problems[0])
    assert [str(p) for p in refused.value.problems] == [
        "the number of alternates must be 1 or more, got 0"
    ]
    with pytest.raises(InputError) as too_many:
        sortition.check_alternates(record, pool, expected + 1)
    assert [str(p) for p in too_many.value.problems] == [
        f"record.json: {expected + 1} alternates asked for, but its panel's candidates for "
        f"alternates live in only {expected} households, and alternates are at most one a "
        "household (the pool minus the panel, its members' households and those who dropped "
        "out or declined)"
    ]
    base = ["alternates", "--record", record, "--pool", pool, "--seed", "a",
            "--dropout-rate", "0.1", "--scenarios", "10", "--evaluate", "20"]  # fmt: skip
    result = run_cli([*base, "--budget", str(expected + 1), "--out", tmp_path / "many"])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"record.json: {expected + 1} alternates asked for" in result.stderr
    assert not (tmp_path / "many").exists()
    result = run_cli([*base, "--budget", str(expected), "--out", tmp_path / "all"])
    assert result.exit_code == 0, result.stderr
    chosen = json.loads((tmp_path / "all/alternates.json").read_text(encoding="utf-8"))
    assert len(chosen["alternates"]) == expected

    declined = next(p["id"] for p in people if p["id"] not in panel)
    (tmp_path / "declined.txt").write_text(declined + "\n", encoding="utf-8")
    result = run_cli(
        ["replace", "--record", record, "--pool", pool, "--dropout", members[0], "--dropout",
         members[1], "--unavailable", tmp_path / "declined.txt", "--seed", "r",
         "--out", tmp_path / "round"]
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    later = tmp_path / "round/replacement.json"
    gone = {members[0], members[1], declined}
    now = set(json.loads(later.read_text(encoding="utf-8"))["panel"])
    assert sortition.check_alternates(later, pool, 1) == alternates_possible(
        people, now, gone, households=True
    )

    single = sortition.select(
        sortition.load(pool, EXAMPLE / "quotas.csv", 20, ids_are_public=True), "legacy", "s"
    )
    sortition.write_selection(single, tmp_path / "single")
    lone = tmp_path / "single/record.json"
    assert sortition.check_alternates(lone, pool, 1, ids_are_public=True) == len(people) - 20
    with pytest.raises(InputError) as lone_refused:
        sortition.check_alternates(lone, pool, 181, ids_are_public=True)
    assert [str(p) for p in lone_refused.value.problems] == [
        "record.json: 181 alternates asked for, but its panel has only 180 candidates for "
        "alternates (the pool minus the panel and those who dropped out or declined)"
    ]

    again = tmp_path / "pool.csv"  # written again: a volunteer off the panel moved area
    outsider = next(p for p in people if p["id"] not in panel)
    outsider["area"] = "Riverside" if outsider["area"] != "Riverside" else "Old Town"
    with again.open("w", encoding="utf-8", newline="") as rows:
        writer = csv.DictWriter(rows, fieldnames=list(people[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(people)
    with pytest.raises(InputError) as other:
        sortition.check_alternates(record, again, 4)
    assert [p.file for p in other.value.problems] == ["pool.csv"]
    assert "is not the pool the panel was drawn from" in str(other.value.problems[0])
    result = run_cli(
        ["alternates", "--record", record, "--pool", again, "--budget", "4", "--seed", "a",
         "--dropout-rate", "0.1", "--out", tmp_path / "other"]
    )  # fmt: skip
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "pool.csv: is not the pool the panel was drawn from" in result.stderr
    assert not (tmp_path / "other").exists()
