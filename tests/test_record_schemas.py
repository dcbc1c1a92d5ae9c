"""Every kind of record matches its JSON Schema in docs/ (record.schema.json for the selection
record, and replacement, alternates, invitation and groups .schema.json), made by the commands
as a user runs them; and each schema can fail."""

from __future__ import annotations

import copy
import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli, select_args

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "example"
SCHEMAS = ("record", "replacement", "alternates", "invitation", "groups")


def _validator(kind: str) -> Any:
    schemas = {
        name: json.loads((DOCS / f"{name}.schema.json").read_text(encoding="utf-8"))
        for name in SCHEMAS
    }
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)
    registry = referencing.Registry().with_resources(
        (schema["$id"], referencing.Resource.from_contents(schema)) for schema in schemas.values()
    )
    return jsonschema.Draft202012Validator(schemas[kind], registry=registry)


def _ok(kind: str, path: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    errors = sorted(_validator(kind).iter_errors(record), key=str)
    assert not errors, f"{path.name}: {errors[0].message} at {list(errors[0].absolute_path)}"
    return record


def _fails(kind: str, record: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> None:
    changed = copy.deepcopy(record)
    change(changed)
    assert list(_validator(kind).iter_errors(changed)), "the schema accepted a broken record"


def _run(*args: object) -> None:
    result = run_cli(list(args))
    assert result.exit_code == 0, result.stderr


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "project.key"
    _run("new-key", path)
    return path


@pytest.fixture(scope="module")
def selection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    example_dir = EXAMPLE
    out = tmp_path_factory.mktemp("selection") / "out"
    result = run_cli(
        select_args(example_dir / "pool.csv", example_dir / "quotas.csv", 20,
                    "--household-columns", "address,postcode", algorithm="leximin",
                    seed="schemas", out=out)
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return out


def _member(selection: Path, row: int) -> str:
    lines = (selection / "selected.csv").read_text(encoding="utf-8").splitlines()
    return lines[row].split(",")[0]


def test_replacement_records_match_their_schema(
    tmp_path: Path, example_dir: Path, selection: Path
) -> None:
    pool = example_dir / "pool.csv"
    _run("replace", "--record", selection / "record.json", "--pool", pool,
         "--dropout", _member(selection, 1), "--seed", "r1", "--out", tmp_path / "r1")  # fmt: skip
    first = _ok("replacement", tmp_path / "r1" / "replacement.json")
    assert first["previous"]["kind"] == "selection"
    _run("replace", "--record", tmp_path / "r1" / "replacement.json", "--pool", pool,
         "--dropout", _member(selection, 3), "--seed", "r2", "--algorithm", "legacy",
         "--out", tmp_path / "r2")  # fmt: skip
    second = _ok("replacement", tmp_path / "r2" / "replacement.json")
    assert second["round"] == 2 and second["previous"]["kind"] == "replacement"
    _fails("replacement", first, lambda r: r.pop("previous"))
    _fails("replacement", first, lambda r: r["builds_on"].update(sha256="not a digest"))
    _fails("replacement", second, lambda r: r["previous"].update(round=0))  # the chain too
    _fails("replacement", first, lambda r: r.update(dropouts=[]))


def test_alternates_and_a_replacement_from_them_match_their_schemas(
    tmp_path: Path, example_dir: Path, selection: Path
) -> None:
    pool = example_dir / "pool.csv"
    _run("alternates", "--record", selection / "record.json", "--pool", pool, "--budget", "3",
         "--dropout-rate", "0.2", "--scenarios", "40", "--evaluate", "40", "--seed", "a",
         "--out", tmp_path / "alternates")  # fmt: skip
    alternates = _ok("alternates", tmp_path / "alternates" / "alternates.json")
    _run("replace", "--record", selection / "record.json", "--pool", pool,
         "--dropout", _member(selection, 1), "--from-alternates", tmp_path / "alternates",
         "--out", tmp_path / "replaced")  # fmt: skip
    replaced = _ok("replacement", tmp_path / "replaced" / "replacement.json")
    assert replaced["algorithm"] == "alternates" and "seed" not in replaced
    _fails("alternates", alternates, lambda r: r["figures"].pop("optimal"))
    _fails("alternates", alternates, lambda r: r["model"].update(kind="guessed"))
    _fails("replacement", replaced, lambda r: r.update(seed={"source": "seed", "value": "x"}))
    _fails("replacement", replaced, lambda r: r["parameters"].pop("alternates_sha256"))


def test_invitation_records_match_their_schema(tmp_path: Path, key: Path) -> None:
    _run("generate-registry", "--rows", "2000", "--strata", "4", "--seed", "schemas",
         "--out", tmp_path / "registry")  # fmt: skip
    registry = tmp_path / "registry" / "registry.csv"
    _run("invite", "--registry", registry, "--letters", "60", "--household-columns",
         "address,postcode", "--stratify-by", "area", "--weight", "area=area-2:1.5",
         "--seed", "i", "--out", tmp_path / "plain")  # fmt: skip
    plain = _ok("invitation", tmp_path / "plain" / "record.json")
    _run("invite", "--registry", registry, "--letters", "60", "--pseudonym-key", key,
         "--seed", "i", "--out", tmp_path / "keyed")  # fmt: skip
    keyed = _ok("invitation", tmp_path / "keyed" / "record.json")
    assert keyed["inputs"]["registry"]["pseudonyms"]["method"] == "HMAC-SHA256"
    _fails("invitation", plain, lambda r: r["allocation"]["strata"][0].update(weight=1.5))
    _fails("invitation", plain, lambda r: r["inputs"]["registry"].update(format="xlsx"))
    _fails("invitation", keyed, lambda r: r["invitations"][0].update(name="someone"))


def test_groups_records_match_their_schema(tmp_path: Path, selection: Path, key: Path) -> None:
    panel = selection / "selected.csv"
    with panel.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = rows[0]  # a pair from different areas: --apart area lets them share a table
    second = next(row for row in rows if row["area"] != first["area"])
    first, second = first["id"], second["id"]
    (tmp_path / "together.csv").write_text(f"a,b\n{first},{second}\n", encoding="utf-8")
    (tmp_path / "fixed.csv").write_text(f"id,table,round\n{_member(selection, 3)},2,\n",
                                        encoding="utf-8")  # fmt: skip
    _run("groups", "--panel", panel, "--tables", "5", "--rounds", "3", "--balance", "gender,age",
         "--apart", "area", "--together", tmp_path / "together.csv",
         "--fixed", tmp_path / "fixed.csv", "--effort", "3000", "--seed", "g",
         "--out", tmp_path / "free")  # fmt: skip
    free = _ok("groups", tmp_path / "free" / "groups.json")
    assert free["options"]["together"] and free["options"]["fixed"]
    _run("groups", "--reseat", tmp_path / "free" / "groups.json", "--dropout",
         _member(selection, 5), "--out", tmp_path / "reseat")  # fmt: skip
    reseat = _ok("groups", tmp_path / "reseat" / "groups.json")
    assert reseat["method"] == "reseat" and reseat["reseat"]["original"]["method"] != "reseat"
    _run("groups", "--panel", panel, "--size", "5", "--balance", "gender", "--pseudonym-key", key,
         "--effort", "3000", "--seed", "g", "--out", tmp_path / "keyed")  # fmt: skip
    keyed = _ok("groups", tmp_path / "keyed" / "groups.json")
    assert "pseudonyms" in keyed["panel"]
    _fails("groups", free, lambda r: r.update(reseat=reseat["reseat"]))  # not a re-seating
    _fails("groups", reseat, lambda r: r.pop("reseat"))
    _fails("groups", reseat, lambda r: r["reseat"]["original"].update(method="random"))
    _fails("groups", keyed, lambda r: r["panel"].update(names=["Ann"]))
