"""The installed package holds every module: pyproject.toml lists its packages by hand, and the
tests run from the source tree (pythonpath "."), so a package missing from the list would pass
every other test and still break `pip install .` (sortition.privacy once did: the demo failed)."""

from __future__ import annotations

import tomllib

from tests.helpers import REPO


def test_every_package_of_the_source_tree_is_installed() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    roots = config["tool"]["setuptools"]["package-dir"]  # package name -> folder
    found = set()
    for name, folder in roots.items():
        for init in (REPO / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(REPO / folder).parts
            found.add(".".join((name, *parts)))
    assert found - listed == set(), f"packages missing from pyproject.toml: {found - listed}"
