"""`select` with each public seed source, as an organiser runs it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.helpers import run_cli, select_args

BEACONS = Path(__file__).parent / "data" / "beacons"


def _select(tmp_path: Path, example_dir: Path, *seed_args: object) -> tuple[int, str, dict]:
    out = tmp_path / "out"
    result = run_cli(
        select_args(
            example_dir / "pool.csv",
            example_dir / "quotas.csv",
            20,
            "--household-columns",
            "address,postcode",
            *seed_args,
            out=out,
        )
    )
    record = json.loads((out / "record.json").read_text()) if result.exit_code == 0 else {}
    return result.exit_code, result.stdout + result.stderr, record


def test_drand_beacon(tmp_path: Path, example_dir: Path) -> None:
    beacon = json.loads((BEACONS / "drand.json").read_text())
    code, output, record = _select(tmp_path, example_dir, "--beacon", BEACONS / "drand.json")
    assert code == 0, output
    expected = f"drand:{beacon['round']}:{beacon['randomness'].lower()}"
    assert record["seed"]["value"] == expected
    assert record["seed"]["source"] == "drand"
    assert expected in output


def test_nist_beacon(tmp_path: Path, example_dir: Path) -> None:
    pulse = json.loads((BEACONS / "nist.json").read_text())["pulse"]
    code, output, record = _select(tmp_path, example_dir, "--beacon", BEACONS / "nist.json")
    assert code == 0, output
    assert record["seed"]["value"] == f"nist:{pulse['pulseIndex']}:{pulse['outputValue'].lower()}"


def test_dice(tmp_path: Path, example_dir: Path) -> None:
    code, output, record = _select(tmp_path, example_dir, "--dice", "3, 6,1,4")
    assert code == 0, output
    assert record["seed"]["value"] == "dice:3,6,1,4"


def test_commit_reveal(tmp_path: Path, example_dir: Path) -> None:
    secrets = ["alice's secret", "bob's secret"]
    digests = [hashlib.sha256(s.encode()).hexdigest() for s in secrets]
    commitments = tmp_path / "commitments.txt"
    commitments.write_text("\n".join(digests) + "\n")
    ordered = [s for _, s in sorted(zip(digests, secrets, strict=True))]
    expected = hashlib.sha256("".join(ordered).encode()).hexdigest()
    code, output, record = _select(
        tmp_path,
        example_dir,
        "--commitments",
        commitments,
        "--reveal",
        secrets[1],
        "--reveal",
        secrets[0],
    )
    assert code == 0, output
    assert record["seed"]["value"] == expected
    assert record["seed"]["source"] == "commit-reveal"


def test_missing_reveal_stops_the_draw_unless_allowed(tmp_path: Path, example_dir: Path) -> None:
    secrets = ["one", "two"]
    commitments = tmp_path / "commitments.txt"
    commitments.write_text("\n".join(hashlib.sha256(s.encode()).hexdigest() for s in secrets))
    code, output, _ = _select(
        tmp_path, example_dir, "--commitments", commitments, "--reveal", "one"
    )
    assert code == 2
    assert hashlib.sha256(b"two").hexdigest() in output
    assert not (tmp_path / "out").exists()
    code, output, record = _select(
        tmp_path, example_dir, "--commitments", commitments, "--reveal", "one", "--allow-missing"
    )
    assert code == 0, output
    assert record["seed"]["missing"] == [hashlib.sha256(b"two").hexdigest()]


def test_two_seed_sources_are_refused(tmp_path: Path, example_dir: Path) -> None:
    code, output, _ = _select(tmp_path, example_dir, "--seed", "x", "--dice", "1,2")
    assert code == 2
    assert "--seed" in output and "--dice" in output
    assert not (tmp_path / "out").exists()
