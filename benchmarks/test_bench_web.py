"""The page for organisers (sortition/web): how long its pages take, idle and while another
browser's long LEXIMIN run computes in the same process (a run must never block the others).

Run: pytest benchmarks/test_bench_web.py --benchmark-only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pytest_benchmark.fixture import BenchmarkFixture

from sortition.synthetic.pools import PRESETS, generate_instance, write_instance
from sortition.web.app import create_app
from tests.helpers import EXAMPLE

LOCAL = "http://127.0.0.1"


def example_project(browser: TestClient) -> str:
    project = browser.post("/projects", data={"name": "bench"}, follow_redirects=False)
    location = project.headers["location"]
    files = {
        "pool": ("pool.csv", (EXAMPLE / "pool.csv").read_bytes()),
        "quotas": ("quotas.csv", (EXAMPLE / "quotas.csv").read_bytes()),
    }
    browser.post(
        f"{location}/inputs", files=files, data={"k": "20", "household_columns": "address,postcode"}
    )
    return location


@pytest.fixture(params=["idle", "busy"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """A browser with the example project; in "busy", another browser's long run computing."""
    app = create_app(tmp_path / "data")
    browser = TestClient(app, base_url=LOCAL)
    project = example_project(browser)
    other = TestClient(app, base_url=LOCAL)
    run = None
    if request.param == "busy":
        (tmp_path / "big").mkdir()
        pool, quotas = write_instance(
            generate_instance(3000, 150, PRESETS["realistic10"], "web-bench"), tmp_path / "big"
        )
        location = other.post("/projects", data={"name": "long"}, follow_redirects=False)
        long_project = location.headers["location"]
        other.post(
            f"{long_project}/inputs",
            files={
                "pool": ("pool.csv", pool.read_bytes()),
                "quotas": ("q.csv", quotas.read_bytes()),
            },
            data={"k": "150"},
        )
        response = other.post(
            f"{long_project}/draw",
            data={"algorithm": "leximin", "seed_kind": "text", "seed": "long"},
            follow_redirects=False,
        )
        run = response.headers["location"]
        time.sleep(2)
    yield browser, project
    if run is not None:
        other.post(f"{run}/cancel")


def test_projects_list(benchmark: BenchmarkFixture, site: tuple[TestClient, str]) -> None:
    browser, _ = site
    assert benchmark(browser.get, "/").status_code == 200


def test_project_page_with_quota_table(
    benchmark: BenchmarkFixture, site: tuple[TestClient, str]
) -> None:
    browser, project = site
    assert benchmark(browser.get, project).status_code == 200


def test_example_draw_through_the_page(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    """Submit a LEXIMIN draw of the example and poll until its files are written."""
    browser = TestClient(create_app(tmp_path / "data"), base_url=LOCAL)
    project = example_project(browser)

    def draw() -> str:
        response = browser.post(
            f"{project}/draw",
            data={"algorithm": "leximin", "households": "1", "seed_kind": "text", "seed": "b"},
            follow_redirects=False,
        )
        run = response.headers["location"]
        while not browser.get(f"{run}/status").json()["finished"]:
            time.sleep(0.02)
        return str(browser.get(f"{run}/status").json()["state"])

    assert benchmark.pedantic(draw, rounds=3, iterations=1) == "done"
