"""What the test modules share: the shared reference data, the CLI runner, the `select` command
line, independent readers of the written files, and a counter for random-case tests.

No test module imports another test module: what two of them use lives here (plain functions)
or in conftest.py (fixtures and the session's hooks).

The shared reference data (../shared/data beside the checkout, or $SORTITION_SHARED_DATA) holds
the published instances. Locally a test that needs it is skipped when it is absent, and the
session ends with one line counting those skips; with $SORTITION_REQUIRE_SHARED_DATA=1 (which
.ci/run sets) the session does not start without it, and a missing instance fails its test, so a
green CI has run every real-instance test.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from click.testing import CliRunner
from sortition_cli.main import cli

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "data" / "example"

# --------------------------------------------------------------------------- shared data

REQUIRE_SHARED_DATA = "SORTITION_REQUIRE_SHARED_DATA"
SHARED_DATA_MISSING = "shared data missing"  # how every skip for want of the data begins


def shared_data() -> Path:
    """../shared/data beside the checkout (CI lays it there), or $SORTITION_SHARED_DATA."""
    override = os.environ.get("SORTITION_SHARED_DATA")
    return Path(override) if override else REPO.parent / "shared" / "data"


def shared_data_required() -> bool:
    """True when the run must fail rather than skip without the shared data (CI)."""
    return os.environ.get(REQUIRE_SHARED_DATA, "") not in ("", "0")


def missing_shared_data(what: str) -> NoReturn:
    """Skip the test because ``what`` is not in the shared data, or fail it where the data is
    required. The skip's reason starts with SHARED_DATA_MISSING, which the summary line counts."""
    message = f"{SHARED_DATA_MISSING}: {what} not found under {shared_data()}"
    if shared_data_required():
        pytest.fail(f"{message} (${REQUIRE_SHARED_DATA} is set)", pytrace=False)
    pytest.skip(message)


def shared_file(*parts: str) -> Path:
    """A file of the shared data; skips (or fails, where required) when it is absent."""
    path = shared_data().joinpath(*parts)
    if not path.is_file():
        missing_shared_data("/".join(parts))
    return path


@dataclass(frozen=True)
class RunnableInstance:
    """A shared instance with its pool, quota file and panel size."""

    name: str
    pool: Path
    quotas: Path
    k: int


RUNNABLE = {
    "example_small_20": ("real/example_small_20", 20),
    "example_large_200": ("real/example_large_200", 200),
    "ces11_k60": ("instances/ces11_k60", 60),
    "gss_k150": ("instances/gss_k150", 150),
}


def runnable_instance(name: str) -> RunnableInstance:
    """One of RUNNABLE's instances; skips (or fails, where required) without the shared data."""
    folder, k = RUNNABLE[name]
    base = shared_data() / folder
    if not (base / "respondents.csv").exists():
        missing_shared_data(f"instance {name}")
    return RunnableInstance(name, base / "respondents.csv", base / "categories.csv", k)


# --------------------------------------------------------------------------- running the CLI


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: Sequence[object], cwd: Path | None = None) -> Result:
    """Run the command as a user would (in-process, output captured separately)."""
    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
    finally:
        os.chdir(old)
    return Result(result.exit_code, result.stdout, result.stderr)


def select_args(
    pool: str | Path,
    quotas: str | Path,
    k: int | str,
    *extra: object,
    algorithm: str | None = None,
    seed: str | None = None,
    out: str | Path | None = None,
) -> list[str]:
    """The command line `select --pool POOL --quotas QUOTAS -k K [--algorithm A] [--seed S]
    [--out OUT] EXTRA...` as strings (for run_cli or a subprocess); an option left as None is
    left out, so that the command's default applies."""
    args: list[object] = ["select", "--pool", pool, "--quotas", quotas, "-k", k]
    if algorithm is not None:
        args += ["--algorithm", algorithm]
    if seed is not None:
        args += ["--seed", seed]
    if out is not None:
        args += ["--out", out]
    return [str(a) for a in [*args, *extra]]


def sortition_command() -> list[str]:
    """The installed `sortition` console script, to run in a subprocess as a user types it."""
    installed = Path(sys.executable).parent / "sortition"
    if installed.exists():
        return [str(installed)]
    found = shutil.which("sortition")
    if found is None:
        pytest.skip("the sortition command is not installed")
    return [found]


# --------------------------------------------------------------------------- reading the outputs


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """A CSV file's header and rows, read with the standard library alone."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def read_quota_bounds(path: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """An independent reader for the two layouts of the shared instances."""
    header, rows = read_rows(path)
    keys = [h.strip().lower() for h in header]
    feature_col = keys.index("category") if "category" in keys else keys.index("feature")
    value_col = keys.index("value") if "value" in keys else len(keys) - 3
    if "category" in keys:
        value_col = keys.index("feature") if "feature" in keys else keys.index("name")
    lo, hi = keys.index("min"), keys.index("max")
    return {(r[feature_col], r[value_col]): (int(r[lo]), int(r[hi])) for r in rows}


def assert_panel_meets_quotas(selected_csv: Path, quotas_csv: Path, k: int) -> None:
    """Count the selected rows' values from the written file, independently of the library."""
    header, rows = read_rows(selected_csv)
    quotas = read_quota_bounds(quotas_csv)
    assert len(rows) == k
    for (feature, value), (low, high) in quotas.items():
        column = header.index(feature)
        count = sum(1 for r in rows if r[column] == value)
        assert low <= count <= high, (feature, value, count, low, high)


# --------------------------------------------------------------------------- docs/randomness.md


def doc_stream(seed: str) -> Iterator[int]:
    """docs/randomness.md section 1, written from the page without importing sortition: block j
    is SHA-256 of the seed and j as 8 big-endian bytes, read as four big-endian 64-bit words."""
    counter = 0
    while True:
        block = hashlib.sha256(seed.encode("utf-8") + counter.to_bytes(8, "big")).digest()
        counter += 1
        for i in range(4):
            yield int.from_bytes(block[8 * i : 8 * i + 8], "big")


def doc_below(words: Iterator[int], n: int) -> int:
    """docs/randomness.md section 2: the next word below 2**64 - (2**64 mod n), taken mod n."""
    limit = 2**64 - (2**64 % n)
    while True:
        word = next(words)
        if word < limit:
            return word % n


def rederive_from_public_record(record: dict[str, Any]) -> list[str]:
    """docs/randomness.md section 5 and docs/distribution.md, from record.json alone, with the
    second implementation of the stream (doc_stream, doc_below): no sortition import. A type the
    record withholds (docs/record.md, "Published types") is drawn from by its size alone, its
    members named by their place ``withheld:U:I``."""
    words = doc_stream(record["seed"]["value"])
    distribution = record["distribution"]
    tickets = [math.floor(panel["weight"] * 2**48) for panel in distribution["panels"]]
    r = doc_below(words, sum(tickets))
    running, index = 0, 0
    for index, count in enumerate(tickets):  # noqa: B007
        running += count
        if r < running:
            break
    chosen: list[str] = []
    for unit, count in distribution["panels"][index]["counts"]:
        listed = distribution["units"][unit]
        if "withheld" in listed:
            members = [f"withheld:{unit}:{i}" for i in range(listed["people"])]
        else:
            members = list(listed["members"])
            assert members == sorted(members)  # in id order: the pseudonyms' order
        for i in range(count):
            j = i + doc_below(words, len(members) - i)
            members[i], members[j] = members[j], members[i]
        chosen += members[:count]
    assert record["draw"]["panel_number"] == index + 1
    return sorted(chosen)


# --------------------------------------------------------------------------- random cases


@dataclass
class CaseCount:
    """The random cases a property test checked in full, and those it passed over (an
    infeasible instance, a case without the property's premise), so that the test cannot pass
    having checked nothing: ``require`` fails below a floor."""

    what: str
    checked: int = 0
    passed_over: int = 0

    def check(self) -> None:
        self.checked += 1

    def pass_over(self) -> None:
        self.passed_over += 1

    def require(self, floor: int) -> None:
        """Fail unless at least ``floor`` cases were checked in full."""
        total = self.checked + self.passed_over
        assert self.checked >= floor, (
            f"{self.what}: only {self.checked} of {total} random cases were checked in full "
            f"(the floor is {floor})"
        )
