"""The replacement draw's commit/draw split, as a user types it: `replace --commit-only` writes
the commitment and prints its SHA-256, `draw --commitment` draws it with the seed and writes what
`replace` writes with that seed, byte for byte, and `verify` checks the version-2 record whose
commitment binds the round, the record it builds on, the dropouts and the unavailable."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sortition.dropouts.service import (
    commit_replacement,
    draw_replacement,
    replace_dropouts,
    write_replacement,
)
from sortition.errors import SortitionError
from sortition.io.outputs import json_text
from sortition.record.draw import commitment_sha256
from sortition.verify.service import verify_record
from tests.helpers import run_cli
from tests.test_dropouts import panel  # noqa: F401 (the fixture)
from tests.test_dropouts_privacy import _email_of, keyed  # noqa: F401 (the fixture)


def _record(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _files(folder: Path) -> dict[str, bytes]:
    """The files a command wrote, by path (the folder's own marker file left out)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def _replace(folder: Path, record: str, out: str, *extra: str) -> Any:
    return run_cli(
        ["replace", "--record", record, "--pool", "pool.csv", "--out", out, *extra], cwd=folder
    )


def _draw(folder: Path, commitment: str, out: str, *extra: str) -> Any:
    return run_cli(["draw", "--commitment", commitment, "--out", out, *extra], cwd=folder)


def _published(output: str) -> str:
    """The SHA-256 the command printed to publish (the line after 'publish this SHA-256')."""
    lines = output.strip().splitlines()
    return lines[next(i for i, line in enumerate(lines) if "publish this SHA-256" in line) + 1]


def _two_members(folder: Path) -> list[str]:
    """Two members of the panel whom the candidates can replace together (which they are depends
    on the panel drawn): the first pair for which replace succeeds."""
    members = _record(folder / "panel/record.json")["panel"]
    for i, first in enumerate(members):
        for second in members[i + 1 :]:
            probe = _replace(
                folder,
                "panel/record.json",
                f"probe-{first}-{second}",
                "--dropout",
                first,
                "--dropout",
                second,
                "--seed",
                "probe",
            )
            if probe.exit_code == 0:
                return [first, second]
    raise AssertionError("no two members of the panel can be replaced together")


@pytest.mark.parametrize(
    "algorithm",
    [[], ["--algorithm", "legacy"], ["--panels", "10"], ["--algorithm", "nash", "--per-person"]],
    ids=["leximin", "legacy", "lottery", "nash-per-person"],
)
def test_commit_only_then_draw_writes_what_replace_writes(
    panel: Path,  # noqa: F811
    algorithm: list[str],
) -> None:
    pair = _two_members(panel)
    dropouts = [arg for member in pair for arg in ("--dropout", member)]
    one = _replace(panel, "panel/record.json", "one", *dropouts, *algorithm, "--seed", "r1")
    assert one.exit_code == 0, one.stderr
    commit = _replace(panel, "panel/record.json", "c", *dropouts, *algorithm, "--commit-only")
    assert commit.exit_code == 0, commit.stderr
    sha = hashlib.sha256((panel / "c/commitment.json").read_bytes()).hexdigest()
    assert _published(commit.stdout) == sha
    assert "round 1: 2 dropouts" in commit.stdout
    assert not (panel / "c/replacement.json").exists()
    drawn = _draw(panel, "c/commitment.json", "two", "--seed", "r1", "--pool", "pool.csv")
    assert drawn.exit_code == 0, drawn.stderr
    assert f"commitment SHA-256: {sha}" in drawn.stdout
    assert _files(panel / "one") == _files(panel / "two")
    record = _record(panel / "two/replacement.json")
    assert record["version"] == 2 and record["commitment"]["sha256"] == sha
    assert record["dropouts"] == sorted(pair)
    result = run_cli(["verify", "two/replacement.json", "--pool", "pool.csv"], cwd=panel)
    assert result.exit_code == 0, result.stdout
    assert "[ok] round 1: commitment" in result.stdout


def test_a_second_round_builds_on_the_first_and_a_commitment_draws_the_same_twice(
    panel: Path,  # noqa: F811
) -> None:
    pair = _two_members(panel)
    first = _replace(panel, "panel/record.json", "round1", "--dropout", pair[0], "--seed", "r1")
    assert first.exit_code == 0, first.stderr
    one = _record(panel / "round1/replacement.json")
    leaving = one["replacements"][0]
    args = ("--dropout", leaving, "--algorithm", "legacy")
    commit = _replace(panel, "round1/replacement.json", "c2", *args, "--commit-only")
    assert commit.exit_code == 0, commit.stderr
    assert "round 2: 1 dropout" in commit.stdout
    commitment = _record(panel / "c2/commitment.json")
    assert commitment["round"] == 2 and commitment["previous"] == one
    assert (
        commitment["builds_on"]["sha256"]
        == hashlib.sha256((panel / "round1/replacement.json").read_bytes()).hexdigest()
    )
    for out in ("a", "b"):  # drawn twice, without the pool file: replacement.json only
        drawn = _draw(panel, "c2/commitment.json", out, "--seed", "r2")
        assert drawn.exit_code == 0, drawn.stderr
        assert sorted(_files(panel / out)) == ["replacement.json"]
    assert _files(panel / "a") == _files(panel / "b")
    direct = _replace(panel, "round1/replacement.json", "d", *args, "--seed", "r2")
    assert direct.exit_code == 0, direct.stderr
    assert (panel / "a/replacement.json").read_bytes() == (
        panel / "d/replacement.json"
    ).read_bytes()
    result = run_cli(["verify", "a/replacement.json"], cwd=panel)
    assert result.exit_code == 0, result.stdout
    assert "[ok] round 2: commitment" in result.stdout
    assert "[ok] round 1: commitment" in result.stdout


def test_pseudonymous_commit_only_then_draw_with_the_key(keyed: Path) -> None:  # noqa: F811
    members = _record(keyed / "panel/record.json")["panel"]
    email = _email_of(keyed / "panel")
    key = ("--pseudonym-key", "pseudonyms.key")
    for start in range(len(members)):  # a member the candidates can replace, by e-mail address
        dropout = ("--dropout", email[members[start]])
        one = _replace(keyed, "panel/record.json", f"one{start}", *dropout, *key, "--seed", "r1")
        if one.exit_code == 0:
            break
    else:
        raise AssertionError("no member of the panel can be replaced")
    commit = _replace(keyed, "panel/record.json", "c", *dropout, *key, "--commit-only")
    assert commit.exit_code == 0, commit.stderr
    text = (keyed / "c/commitment.json").read_text(encoding="utf-8")
    assert "@" not in text  # the commitment names people by pseudonym only
    assert (keyed / "c/private/pseudonyms.csv").exists()
    without = _draw(keyed, "c/commitment.json", "x", "--seed", "r1", "--pool", "pool.csv")
    assert without.exit_code == 2 and "--pseudonym-key" in without.stderr
    assert not (keyed / "x").exists()
    drawn = _draw(keyed, "c/commitment.json", "two", "--seed", "r1", "--pool", "pool.csv", *key)
    assert drawn.exit_code == 0, drawn.stderr
    assert _files(keyed / f"one{start}") == _files(keyed / "two")
    result = run_cli(["verify", "two/replacement.json", "--pool", "pool.csv", *key], cwd=keyed)
    assert result.exit_code == 0, result.stdout


def test_commit_only_refuses_alternates_and_a_seed(panel: Path) -> None:  # noqa: F811
    member = _record(panel / "panel/record.json")["panel"][0]
    base = ("--dropout", member, "--commit-only")
    alternates = _replace(panel, "panel/record.json", "a", *base, "--from-alternates", "alts")
    assert alternates.exit_code == 2
    assert "--commit-only does not go with --from-alternates" in alternates.stderr
    assert "Traceback" not in alternates.stderr
    seeded = _replace(panel, "panel/record.json", "b", *base, "--seed", "x")
    assert seeded.exit_code == 2 and "--commit-only takes no seed" in seeded.stderr
    assert not (panel / "a").exists() and not (panel / "b").exists()


def test_draw_refuses_a_wrong_expect_and_a_tampered_commitment(panel: Path) -> None:  # noqa: F811
    pair = _two_members(panel)
    commit = _replace(
        panel, "panel/record.json", "c", "--dropout", pair[0], "--algorithm", "legacy",
        "--commit-only",
    )  # fmt: skip
    assert commit.exit_code == 0, commit.stderr
    sha = _published(commit.stdout)
    path = panel / "c/commitment.json"
    wrong = _draw(panel, "c/commitment.json", "w", "--seed", "x", "--expect", "0" * 64)
    assert wrong.exit_code == 2 and "not the published" in wrong.stderr
    assert not (panel / "w").exists()

    # Whoever knows the seed swaps the dropout for another member (re-saved canonically, so the
    # text is well formed): the published SHA-256 no longer matches.
    document = _record(path)
    document["dropouts"] = [pair[1]]
    path.write_text(json_text(document), encoding="utf-8")
    swapped = _draw(panel, "c/commitment.json", "s", "--seed", "x", "--expect", sha)
    assert swapped.exit_code == 2 and "not the published" in swapped.stderr
    assert not (panel / "s").exists()

    # A dropout who is not on the panel: refused even without --expect.
    document["dropouts"] = [next(r["id"] for r in document["pool"])]
    path.write_text(json_text(document), encoding="utf-8")
    outsider = _draw(panel, "c/commitment.json", "o", "--seed", "x")
    assert outsider.exit_code == 2 and "dropouts" in outsider.stderr, outsider.stderr
    assert not (panel / "o").exists()

    # Bytes that are not the canonical text of the content.
    path.write_text(json.dumps(document), encoding="utf-8")
    edited = _draw(panel, "c/commitment.json", "e", "--seed", "x")
    assert edited.exit_code == 2 and "has been changed" in edited.stderr
    assert not (panel / "e").exists()

    # A selection's commitment file named as a replacement's, and the other way round.
    document["kind"] = "selection"
    path.write_text(json_text(document), encoding="utf-8")
    other = _draw(panel, "c/commitment.json", "k", "--seed", "x")
    assert other.exit_code == 2 and "Traceback" not in other.stderr
    assert not (panel / "k").exists()


def _swap_dropout(record: dict[str, Any]) -> None:
    """Claim another member of the previous panel dropped out (the trust gap of version 1)."""
    stayer = next(p for p in record["previous"]["panel"] if p not in record["dropouts"])
    record["dropouts"] = [stayer]


def test_verify_checks_the_version_2_commitment_over_the_dropouts(
    panel: Path,  # noqa: F811
) -> None:
    pair = _two_members(panel)
    result = _replace(panel, "panel/record.json", "r", "--dropout", pair[0], "--seed", "t")
    assert result.exit_code == 0, result.stderr
    path = panel / "r/replacement.json"
    record = _record(path)
    for key, tamper in (
        ("dropouts", _swap_dropout),
        ("unavailable", lambda r: r.update(unavailable=[r["pool"][0]["id"]])),
        ("round", lambda r: r.update(round=2)),
        ("builds_on", lambda r: r["builds_on"].update(kind="replacement")),
    ):
        tampered = json.loads(json.dumps(record))
        tamper(tampered)
        path.write_text(json_text(tampered), encoding="utf-8")
        report = verify_record(path)
        assert not report.item("round 1: commitment").ok, key
        cli = run_cli(["verify", "r/replacement.json"], cwd=panel)
        assert cli.exit_code == 1
        assert "[MISMATCH] round 1: commitment:" in cli.stdout


def test_verify_still_reads_version_1(panel: Path) -> None:  # noqa: F811
    """A version-1 record (its commitment covered the draw's inputs only) verifies as before,
    and a swapped dropout is not caught by its commitment: the gap version 2 closes."""
    pair = _two_members(panel)
    result = _replace(panel, "panel/record.json", "r", "--dropout", pair[0], "--seed", "t")
    assert result.exit_code == 0, result.stderr
    path = panel / "r/replacement.json"
    record = _record(path)
    record["version"] = 1
    record["commitment"]["sha256"] = commitment_sha256(record)
    path.write_text(json_text(record), encoding="utf-8")
    report = verify_record(path)
    assert report.ok, [str(i) for i in report.items if not i.ok]
    assert "replacement record version 1" in str(report.item("record version").detail)
    _swap_dropout(record)
    path.write_text(json_text(record), encoding="utf-8")
    assert verify_record(path).item("round 1: commitment").ok


def test_library_commit_then_draw_is_replace(panel: Path, tmp_path: Path) -> None:  # noqa: F811
    member = _two_members(panel)[0]
    record, pool = panel / "panel/record.json", panel / "pool.csv"
    commitment = commit_replacement(record, pool, [member])
    assert commitment.sha256 == commitment_sha256(commitment.document)
    assert commitment.document["dropouts"] == [member]
    two_step = draw_replacement(commitment, "lib")
    one_step = replace_dropouts(record, pool, [member], "lib")
    assert two_step.record == one_step.record
    a = write_replacement(two_step, tmp_path / "a")
    b = write_replacement(one_step, tmp_path / "b")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_an_interrupt_while_committing_writes_nothing(
    panel: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sortition_cli.main import run

    import sortition.dropouts.service as service

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    member = _record(panel / "panel/record.json")["panel"][0]
    monkeypatch.setattr(service, "prepare_commitment", interrupted)
    monkeypatch.chdir(panel)
    monkeypatch.setattr(
        sys,
        "argv",
        [
            *("sortition", "replace", "--record", "panel/record.json", "--pool", "pool.csv"),
            *("--dropout", member, "--commit-only", "--out", "c"),
        ],
    )
    with pytest.raises(SystemExit) as stop:
        run()
    assert stop.value.code == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "interrupted; nothing was written"
    assert not (panel / "c").exists()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the panel is only read
)
@given(data=st.data())
def test_commit_then_draw_is_replace_for_any_dropouts_and_seed(
    panel: Path,  # noqa: F811
    data: st.DataObject,
) -> None:
    """For any dropouts, unavailable people, algorithm and seed, the two steps give the one
    step's record (or the same refusal), and the record's commitment is the commitment's."""
    record, pool = panel / "panel/record.json", panel / "pool.csv"
    members = _record(record)["panel"]
    others = [f"p{i:02d}" for i in range(1, 16) if f"p{i:02d}" not in members]
    dropouts = data.draw(st.lists(st.sampled_from(members), min_size=1, max_size=3, unique=True))
    unavailable = data.draw(st.lists(st.sampled_from(others), max_size=2, unique=True))
    algorithm = data.draw(st.sampled_from(["legacy", "leximin", "maximin"]))
    seed = data.draw(st.text("abcdefgh0123456789 ", min_size=1, max_size=12))
    try:
        one = replace_dropouts(record, pool, dropouts, seed, unavailable, algorithm=algorithm)
    except SortitionError as error:
        with pytest.raises(type(error)):
            commit_replacement(record, pool, dropouts, unavailable, algorithm=algorithm)
        return
    commitment = commit_replacement(record, pool, dropouts, unavailable, algorithm=algorithm)
    two = draw_replacement(commitment, seed)
    assert two.record == one.record
    assert one.record["commitment"]["sha256"] == commitment.sha256
    assert commitment.document["dropouts"] == sorted(dropouts)
    assert commitment.document["unavailable"] == sorted(unavailable)
