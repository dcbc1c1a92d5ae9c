"""`sortition replace` and the replacement record: select -> replace (two rounds) -> verify as a
user types it, the candidate and quota rules, infeasible replacements, and tampering that verify
catches item by item."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.dropouts.service import replace_dropouts
from sortition.io.outputs import json_text
from sortition.model import Quotas, ValueQuota
from sortition.record.draw import derive_draw
from sortition.record.replacement import chain_state, derived_quotas, replacement_basis
from sortition.verify.service import verify_record
from tests.helpers import run_cli, select_args

# Twelve people in nine households, k = 5 (each age's count on a panel is 1 or 2).
POOL = (
    "id,name,gender,age,address\n"
    "p01,Ann,female,young,1 High St\n"
    "p02,Bob,male,young,1 High St\n"
    "p03,Cai,female,middle,2 High St\n"
    "p04,Dee,male,middle,3 High St\n"
    "p05,Eve,female,old,4 Low Rd\n"
    "p06,Fay,male,old,4 Low Rd\n"
    "p07,Gus,female,young,5 Low Rd\n"
    "p08,Hal,male,middle,6 Low Rd\n"
    "p09,Ida,female,old,7 Mill Ln\n"
    "p10,Jon,male,young,8 Mill Ln\n"
    "p11,Kim,female,middle,9 Mill Ln\n"
    "p12,Lee,male,old,9 Mill Ln\n"
    "p13,Max,male,young,10 Mill Ln\n"
    "p14,Nia,female,old,11 Mill Ln\n"
    "p15,Oz,male,middle,12 Mill Ln\n"
)
QUOTAS = (
    "feature,value,min,max\n"
    "gender,female,2,3\ngender,male,2,3\n"
    "age,young,1,2\nage,middle,1,2\nage,old,1,2\n"
)
K = 5


@pytest.fixture
def panel(tmp_path: Path) -> Path:
    """A folder with pool.csv, quotas.csv and panel/ drawn by select (LEXIMIN, households)."""
    (tmp_path / "pool.csv").write_text(POOL, encoding="utf-8")
    (tmp_path / "quotas.csv").write_text(QUOTAS, encoding="utf-8")
    args = select_args(
        "pool.csv", "quotas.csv", K, "--household-columns", "address", seed="s", out="panel"
    )
    result = run_cli(args, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    return tmp_path


def _record(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _replace(folder: Path, record: str, out: str, *extra: str) -> Any:
    return run_cli(
        ["replace", "--record", record, "--pool", "pool.csv", "--out", out, *extra], cwd=folder
    )


def _ids(csv_path: Path) -> list[str]:
    with csv_path.open(encoding="utf-8") as handle:
        return [row["id"] for row in csv.DictReader(handle)]


def test_two_rounds_then_verify(panel: Path) -> None:
    members = _record(panel / "panel/record.json")["panel"]
    (panel / "dropouts.txt").write_text(f"# said no on Monday\n{members[0]}\n\n{members[3]}\n")
    first = _replace(
        panel, "panel/record.json", "round1", "--dropouts", "dropouts.txt", "--seed", "r1"
    )
    assert first.exit_code == 0, first.stderr
    one = _record(panel / "round1/replacement.json")
    assert one["kind"] == "replacement" and one["version"] == 2 and one["round"] == 1
    assert one["dropouts"] == sorted([members[0], members[3]])
    assert len(one["replacements"]) == 2
    assert sorted(_ids(panel / "round1/selected.csv")) == one["panel"]
    assert set(one["panel"]) == (set(members) - set(one["dropouts"])) | set(one["replacements"])
    # the fair replacement's probabilities sum to the number of dropouts
    assert sum(one["probabilities"].values()) == pytest.approx(2.0, abs=1e-9)
    assert set(_ids(panel / "round1/remaining.csv")) == {f"p{i:02d}" for i in range(1, 16)} - set(
        one["panel"]
    )

    second = _replace(
        panel,
        "round1/replacement.json",
        "round2",
        "--dropout",
        one["replacements"][0],
        "--seed",
        "r2",
        "--algorithm",
        "legacy",
    )
    assert second.exit_code == 0, second.stderr
    two = _record(panel / "round2/replacement.json")
    assert two["round"] == 2 and two["previous"] == one
    # earlier dropouts are never candidates again
    candidates = {row["id"] for row in two["pool"]}
    assert not candidates & set(one["dropouts"])

    result = run_cli(
        ["verify", "round2/replacement.json", "--pool", "pool.csv", "--quotas", "quotas.csv"],
        cwd=panel,
    )
    assert result.exit_code == 0, result.stdout
    assert "[ok] round 2: draw" in result.stdout
    assert "[ok] round 1: draw" in result.stdout
    assert "[ok] selection: draw" in result.stdout
    assert "[ok] selection: pool file" in result.stdout


def _replaceable(panel: Path) -> str:
    """A member whom some candidate can replace (which members are depends on the panel drawn)."""
    for i, member in enumerate(_record(panel / "panel/record.json")["panel"]):
        probe = _replace(
            panel, "panel/record.json", f"probe{i}", "--dropout", member, "--seed", "x"
        )
        if probe.exit_code == 0:
            return str(member)
    raise AssertionError("no member of the panel can be replaced")


def test_byte_identical_on_rerun(panel: Path) -> None:
    member = _replaceable(panel)
    for out in ("a", "b"):
        result = _replace(panel, "panel/record.json", out, "--dropout", member, "--seed", "x")
        assert result.exit_code == 0, result.stderr
    for name in ("replacement.json", "selected.csv", "remaining.csv", "probabilities.csv"):
        assert (panel / "a" / name).read_bytes() == (panel / "b" / name).read_bytes()


def test_builds_on_is_the_record_files_sha256(panel: Path) -> None:
    import hashlib

    members = _record(panel / "panel/record.json")["panel"]
    assert (
        _replace(panel, "panel/record.json", "r", "--dropout", members[2], "--seed", "x").exit_code
        == 0
    )
    raw = (panel / "panel/record.json").read_bytes()
    record = _record(panel / "r/replacement.json")
    assert record["builds_on"]["sha256"] == hashlib.sha256(raw).hexdigest()
    assert json_text(record["previous"]).encode("utf-8") == raw


def test_candidates_exclude_stayers_households_and_unavailable(panel: Path) -> None:
    record = _record(panel / "panel/record.json")
    members = record["panel"]
    household = {row["id"]: row["household"] for row in record["pool"]}
    outsiders = [p for p in household if p not in members]
    state = chain_state(record, "record.json")
    basis = replacement_basis(state, [members[0]], [outsiders[0]])
    stay_households = {household[p] for p in members[1:]}
    expected = [
        p
        for p in sorted(household)
        if p not in members and p != outsiders[0] and household[p] not in stay_households
    ]
    assert list(basis.candidates) == expected
    assert basis.instance.k == 1


@given(
    bounds=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 8)), min_size=1, max_size=6
    ),
    data=st.data(),
)
@settings(max_examples=200, deadline=None)
def test_derived_quotas_restore_the_original(bounds: list[tuple[int, int, int]], data: Any) -> None:
    """Whatever the stayers' counts (within the original max), a replacement count within the
    derived bounds makes stay + count meet the original bounds, and every count that does is
    within the derived bounds."""
    rows, stay = [], []
    for number, (a, b, s) in enumerate(bounds):
        low, high = min(a, b), max(a, b)
        rows.append(ValueQuota("f", f"v{number}", low, high))
        stay.append(min(s, high))
    derived = derived_quotas(Quotas(tuple(rows)), np.array(stay, dtype=np.int64))
    for original, new, count in zip(rows, derived.rows, stay, strict=True):
        extra = data.draw(st.integers(0, 10))
        assert (new.min <= extra <= new.max) == (original.min <= count + extra <= original.max)


def _no_candidate_of_an_age(panel: Path) -> tuple[str, list[str]]:
    """The age of which the panel has one member, at its min of 1, and the arguments of replace
    for that member's dropping out with everyone else of that age declined (declined.txt): no
    replacement meets the quotas."""
    record = _record(panel / "panel/record.json")
    rows = {row["id"]: row["values"]["age"] for row in record["pool"]}
    ages = Counter(rows[p] for p in record["panel"])
    age = next(a for a, c in sorted(ages.items()) if c == 1)  # at its min of 1
    leaving = next(p for p in record["panel"] if rows[p] == age)
    others = [p for p in rows if rows[p] == age and p not in record["panel"]]
    (panel / "declined.txt").write_text("\n".join(others) + "\n")
    return age, ["--dropout", leaving, "--unavailable", "declined.txt", "--seed", "x"]


def test_infeasible_replacement_exits_3_with_advice_and_writes_nothing(panel: Path) -> None:
    age, args = _no_candidate_of_an_age(panel)
    result = _replace(panel, "panel/record.json", "out", *args)
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "members who stay" in result.stderr
    assert f"age {age}: lower min from 1 to 0" in result.stderr
    assert not (panel / "out").exists()


def test_the_advice_when_the_time_limit_passes_can_be_followed(panel: Path) -> None:
    """Past --time-limit before the smallest change is found, the advice names replace's own
    --time-limit (not check's, which cannot see the candidates or the derived quotas); the same
    command with a longer one finds the change, in English and in Hebrew."""
    age, args = _no_candidate_of_an_age(panel)
    short = _replace(panel, "panel/record.json", "out", *args, "--time-limit", "0.000001")
    assert short.exit_code == 3, short.stdout + short.stderr
    advice = (
        "the time limit (1e-06 s) passed before the smallest change of the quotas was found: "
        "the same 'sortition replace' with a longer --time-limit can find it"
    )
    assert advice in short.stderr and "sortition check" not in short.stderr
    where = ["--record", "panel/record.json", "--pool", "pool.csv", "--out", "out"]
    hebrew = run_cli(
        ["--lang", "he", "replace", *where, *args, "--time-limit", "0.000001"], cwd=panel
    )
    assert hebrew.exit_code == 3
    assert "אותה פקודת 'sortition replace' עם --time-limit ארוך יותר" in hebrew.stderr
    longer = _replace(panel, "panel/record.json", "out", *args, "--time-limit", "60")
    assert longer.exit_code == 3, longer.stdout + longer.stderr
    assert f"age {age}: lower min from 1 to 0" in longer.stderr
    assert "time limit" not in longer.stderr
    assert not (panel / "out").exists()


def test_the_advice_when_no_change_within_the_recorded_flex_helps(tmp_path: Path) -> None:
    """A quota whose min_flex keeps its min: no change within the recorded bounds helps, and the
    advice says what an organiser can do with replace (not "widen min_flex/max_flex" or "lower
    k": replace reads the quotas from the record, and k is the number of dropouts)."""
    (tmp_path / "pool.csv").write_text(POOL, encoding="utf-8")
    rows = QUOTAS.strip().split("\n")
    flexed = [rows[0] + ",min_flex"] + [
        row + (",1" if row.startswith("age,") else ",") for row in rows[1:]
    ]
    (tmp_path / "quotas.csv").write_text("\n".join(flexed) + "\n", encoding="utf-8")
    args = select_args(
        "pool.csv", "quotas.csv", K, "--household-columns", "address", seed="s", out="panel"
    )
    assert run_cli(args, cwd=tmp_path).exit_code == 0
    _age, replace_args = _no_candidate_of_an_age(tmp_path)
    result = _replace(tmp_path, "panel/record.json", "out", *replace_args)
    assert result.exit_code == 3, result.stdout + result.stderr
    assert (
        "no change of the quotas within their recorded min_flex/max_flex bounds makes a "
        "replacement possible: replace fewer of the dropouts, or recruit more volunteers and "
        "draw a new panel"
    ) in result.stderr
    assert "widen" not in result.stderr and "lower k" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_bad_input(panel: Path) -> None:
    members = _record(panel / "panel/record.json")["panel"]
    outsider = next(f"p{i:02d}" for i in range(1, 16) if f"p{i:02d}" not in members)
    (panel / "d.txt").write_text(f"{members[0]}\n{outsider}\n")
    result = _replace(panel, "panel/record.json", "o", "--dropouts", "d.txt", "--seed", "x")
    assert result.exit_code == 2
    assert (
        f"d.txt, row 2: dropout '{outsider}' is in the pool but not on the current panel"
        in result.stderr
    )
    result = _replace(panel, "panel/record.json", "o", "--seed", "x")
    assert result.exit_code == 2 and "no dropouts given" in result.stderr
    (panel / "other.csv").write_text(POOL.replace("p15,Oz,male,middle", "p15,Oz,female,middle"))
    result = run_cli(
        [
            "replace",
            "--record",
            "panel/record.json",
            "--pool",
            "other.csv",
            "--dropout",
            members[0],
            "--seed",
            "x",
            "--out",
            "o",
        ],
        cwd=panel,
    )
    assert result.exit_code == 2 and "is not the pool the panel was drawn from" in result.stderr
    assert not (panel / "o").exists()


def _tamper_replacement(record: dict[str, Any], other: str) -> None:
    record["replacements"] = sorted([*record["replacements"][1:], other])


def _tamper_quota(record: dict[str, Any], other: str) -> None:
    record["quotas"][0]["max"] += 1


def _tamper_candidate(record: dict[str, Any], other: str) -> None:
    record["pool"] = record["pool"][1:]


def _tamper_panel(record: dict[str, Any], other: str) -> None:
    record["panel"] = sorted([*record["panel"][1:], other])


def _tamper_builds_on(record: dict[str, Any], other: str) -> None:
    record["builds_on"]["sha256"] = "0" * 64


def _tamper_selection_panel(record: dict[str, Any], other: str) -> None:
    previous = record["previous"]
    previous["panel"] = sorted([*previous["panel"][1:], other])


def _tamper_seed(record: dict[str, Any], other: str) -> None:
    """Another seed, one that draws other replacements (the first of a fixed list)."""
    record["seed"]["value"] = next(
        seed
        for seed in (f"another seed {n}" for n in range(100))
        if derive_draw(record, seed).panel != record["replacements"]
    )


def _tamper_dropouts(record: dict[str, Any], other: str) -> None:
    record["dropouts"] = [other]


@pytest.mark.parametrize(
    ("tamper", "item"),
    [
        (_tamper_replacement, "round 1: draw"),
        (_tamper_quota, "round 1: derived quotas"),
        (_tamper_candidate, "round 1: candidates"),
        (_tamper_panel, "round 1: panel"),
        (_tamper_builds_on, "round 1: builds on"),
        (_tamper_selection_panel, "selection: draw"),
        (_tamper_seed, "round 1: draw"),
        (_tamper_dropouts, "round 1: dropouts"),
    ],
)
def test_each_tampering_fails_on_its_item(panel: Path, tamper: Any, item: str) -> None:
    members = _record(panel / "panel/record.json")["panel"]
    result = _replace(
        panel,
        "panel/record.json",
        "r",
        "--dropout",
        members[0],
        "--dropout",
        members[4],
        "--seed",
        "t",
    )
    assert result.exit_code == 0, result.stderr
    path = panel / "r/replacement.json"
    record = _record(path)
    assert verify_record(path).ok
    outsider = next(row["id"] for row in record["pool"] if row["id"] not in record["replacements"])
    tamper(record, outsider)
    path.write_text(json_text(record), encoding="utf-8")
    report = verify_record(path)
    assert not report.item(item).ok, report.item(item)
    result = run_cli(["verify", "r/replacement.json"], cwd=panel)
    assert result.exit_code == 1
    assert f"[MISMATCH] {item}:" in result.stdout


def test_panels_lottery_and_library_call(panel: Path) -> None:
    replacement = replace_dropouts(
        panel / "panel/record.json", panel / "pool.csv", [_replaceable(panel)], "seed", panels=10
    )
    assert replacement.record["lottery"]["m"] == 10
    assert len(replacement.replacements) == 1
    assert replacement.record["draw"]["method"] == "lottery"


def test_check_round_makes_replaces_checks_of_the_lists(panel: Path) -> None:
    """sortition.check_round: the round's number for lists replace would take, and replace's
    own InputError (the file and line named) for lists it would refuse, and its InfeasibleError
    (with its advice) when fewer candidates remain than dropouts; it reads no pool file."""
    import sortition

    members = _record(panel / "panel/record.json")["panel"]
    outsider = next(f"p{i:02d}" for i in range(1, 16) if f"p{i:02d}" not in members)
    (panel / "d.txt").write_text(f"# two\n{members[0]}\n{members[1]}\n", encoding="utf-8")
    dropouts = sortition.read_id_file(panel / "d.txt")
    assert dropouts.ids == (members[0], members[1]) and dropouts.rows == (2, 3)
    assert sortition.check_round(panel / "panel/record.json", dropouts) == 1
    bad = dropouts + sortition.read_id_file(panel / "d.txt")
    with pytest.raises(sortition.InputError) as twice:
        sortition.check_round(panel / "panel/record.json", bad, [outsider])
    assert [str(p) for p in twice.value.problems] == [
        f"d.txt, row 2: '{members[0]}' is listed twice",
        f"d.txt, row 3: '{members[1]}' is listed twice",
    ]
    result = _replace(panel, "panel/record.json", "r1", "--dropouts", "d.txt", "--seed", "x")
    assert result.exit_code == 0, result.stderr
    replaced = _record(panel / "r1/replacement.json")["replacements"]
    assert sortition.check_round(panel / "r1/replacement.json", replaced[:1]) == 2
    with pytest.raises(sortition.InputError) as gone:  # dropped out in round 1
        sortition.check_round(panel / "r1/replacement.json", [members[0]])
    assert "not on the current panel" in str(gone.value.problems[0])
    outsiders = [f"p{i:02d}" for i in range(1, 16) if f"p{i:02d}" not in members]
    with pytest.raises(sortition.InfeasibleError) as none_left:  # everyone else declined
        sortition.check_round(panel / "panel/record.json", members[:2], outsiders)
    assert [str(p) for p in none_left.value.problems] == [
        "2 dropouts to replace, but only 0 candidates from 0 households remain"
    ]
    assert [str(a) for a in none_left.value.advice] == [
        "no change of the quotas can help: replace fewer of the dropouts, or recruit more "
        "volunteers and draw a new panel"
    ]
    (panel / "declined.txt").write_text("\n".join(outsiders) + "\n", encoding="utf-8")
    (panel / "two.txt").write_text("\n".join(members[:2]) + "\n", encoding="utf-8")
    result = _replace(
        panel, "panel/record.json", "r0", "--dropouts", "two.txt", "--unavailable",
        "declined.txt", "--seed", "x",
    )  # fmt: skip
    assert result.exit_code == 3 and "but only 0 candidates from 0 households" in result.stderr


def test_check_panel_pool_refuses_a_pool_written_since_the_draw(panel: Path) -> None:
    """sortition.check_panel_pool: the pool file the panel was drawn from passes (under another
    name too, and for a replacement round's record, whose chain leads back to the draw); the
    pool file written again since, one volunteer's gender changed, is refused naming that file,
    with replace's own message; another record's kind is refused naming the record."""
    import sortition

    record = panel / "panel/record.json"
    (panel / "copy.csv").write_bytes((panel / "pool.csv").read_bytes())
    assert sortition.check_panel_pool(record, panel / "copy.csv") is None
    (panel / "again.csv").write_text(
        POOL.replace("p15,Oz,male,middle", "p15,Oz,female,middle"), encoding="utf-8"
    )
    with pytest.raises(sortition.InputError) as refused:
        sortition.check_panel_pool(record, panel / "again.csv")
    assert [p.file for p in refused.value.problems] == ["again.csv"]
    assert str(refused.value.problems[0]).startswith(
        "again.csv: is not the pool the panel was drawn from (canonical digest "
    )
    members = _record(record)["panel"]
    result = _replace(panel, "panel/record.json", "r1", "--dropout", members[0], "--seed", "x")
    assert result.exit_code == 0, result.stderr
    assert sortition.check_panel_pool(panel / "r1/replacement.json", panel / "pool.csv") is None
    with pytest.raises(sortition.InputError) as later:
        sortition.check_panel_pool(panel / "r1/replacement.json", panel / "again.csv")
    assert [str(p) for p in later.value.problems] == [str(refused.value.problems[0])]
    (panel / "other.json").write_text('{"kind": "invitation", "version": 1}', encoding="utf-8")
    with pytest.raises(sortition.InputError) as other:
        sortition.check_panel_pool(panel / "other.json", panel / "pool.csv")
    assert [p.file for p in other.value.problems] == ["other.json"]
