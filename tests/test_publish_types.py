"""Issue 20, item 4: `select --publish-types --min-type-size T` publishes type counts, and withholds
the types of fewer than T people (docs/privacy.md section 7, docs/record.md "Published types").

The published files are searched byte by byte: no id of the pool, no pseudonym of a withheld
member and no value combination of a withheld type appear in them. The draw is re-derived from the
public record by the second implementation (tests/helpers.py). `verify` passes on the public
record alone and with the pool and key; tampering fails it, and a withheld type's digest changed
(with every digest above it made to match) is caught only with the pool and the key.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sortition.io.outputs import json_text
from sortition.privacy.keys import PseudonymKey
from sortition.privacy.types import type_sizes
from sortition.record.canonical import canonical_json, pseudonymised_pool
from sortition.record.draw import commitment_sha256
from sortition.record.types import parse_placeholder, placeholder, type_table
from sortition.selection.service import load_input
from sortition.verify.service import verify_record
from tests.helpers import (
    EXAMPLE,
    REPO,
    read_rows,
    rederive_from_public_record,
    run_cli,
    runnable_instance,
)

KEY = b"sortition-test-key-0001"
PUBLISHED = ("record.json", "distribution.json", "commitment.json")
FEATURES = ("gender", "age", "area", "education")


def inputs(tmp_path: Path) -> tuple[Path, Path, Path, list[str]]:
    """The example town keyed by e-mail address: pool, quotas, key file, every e-mail."""
    pool, quotas, key = tmp_path / "pool.csv", tmp_path / "quotas.csv", tmp_path / "t.key"
    pool.write_bytes((EXAMPLE / "pool.csv").read_bytes())
    quotas.write_bytes((EXAMPLE / "quotas.csv").read_bytes())
    key.write_bytes(KEY)
    header, rows = read_rows(pool)
    return pool, quotas, key, [row[header.index("email")] for row in rows]


def select(tmp_path: Path, out: Path, *extra: object) -> tuple[Path, Path, Path, list[str]]:
    pool, quotas, key, emails = inputs(tmp_path)
    args = ["select", "--pool", pool, "--quotas", quotas, "-k", 20, "--id-column", "email"]
    result = run_cli(
        [*args, "--pseudonym-key", key, "--seed", "types", "--publish-types", *extra, "--out", out]
    )
    assert result.exit_code == 0, result.stderr
    return pool, quotas, key, emails


def private_types(out: Path) -> dict[str, tuple[str, ...]]:
    """Each pseudonym's type (values in FEATURES order), from the organiser's private files."""
    pseudonym_of = dict(csv.reader((out / "private" / "pseudonyms.csv").open(encoding="utf-8")))
    types = {}
    for name in ("selected.csv", "remaining.csv"):
        header, rows = read_rows(out / name)
        for row in rows:
            person = pseudonym_of[row[header.index("email")]]
            types[person] = tuple(row[header.index(f)] for f in FEATURES)
    return types


def record_of(out: Path) -> dict[str, Any]:
    return json.loads((out / "record.json").read_text(encoding="utf-8"))


def verify(*args: object) -> tuple[int, str]:
    result = run_cli(["verify", *args])
    return result.exit_code, result.stdout + result.stderr


def test_published_files_withhold_the_rare_types(tmp_path: Path) -> None:
    out = tmp_path / "panel"
    select(tmp_path, out)
    types = private_types(out)
    size = Counter(types.values())
    withheld = {p for p, t in types.items() if size[t] < 5}
    rare = {t for t in size if size[t] < 5}
    assert 0 < len(withheld) < len(types) and rare
    record = record_of(out)
    assert record["version"] == 6
    summary = record["inputs"]["pool"]["publish_types"]
    assert summary == {
        "min_type_size": 5,
        "types": len(size),
        "withheld_types": len(rare),
        "withheld_people": len(withheld),
    }
    combination_texts = set()
    for values in rare:
        as_dict = dict(zip(FEATURES, values, strict=True))
        combination_texts |= {
            canonical_json(as_dict),
            json.dumps(as_dict, sort_keys=True, ensure_ascii=False).encode("utf-8"),
            json_text(as_dict).encode("utf-8"),
        }
    for name in ("record.json", "distribution.json"):
        data = (out / name).read_bytes()
        assert not [p for p in withheld if p.encode() in data], name
        assert not [t for t in combination_texts if t in data], name
        # every value object in the file: none is a withheld type's combination
        found: list[tuple[str, ...]] = []

        def walk(node: Any, found: list[tuple[str, ...]] = found) -> None:
            if isinstance(node, dict):
                if set(node) == set(FEATURES):
                    found.append(tuple(node[f] for f in FEATURES))
                for child in node.values():
                    walk(child)
            elif isinstance(node, list):
                for child in node:
                    walk(child)

        walk(json.loads(data))
        assert found and not set(found) & rare, name
    # the public types list their members, each with their type's values
    for unit in record["pool"]:
        if "members" in unit:
            assert unit["people"] >= 5
            assert {types[p] for p in unit["members"]} == {
                tuple(unit["values"][f] for f in FEATURES)
            }
    # the organiser's probabilities.csv (private) names them: the search above would see it
    assert any(p.encode() in (out / "probabilities.csv").read_bytes() for p in withheld)
    # no e-mail address in the published files
    for name in ("record.json", "distribution.json"):
        data = (out / name).read_bytes()
        assert not [e for e in emails_of(tmp_path) if e.encode() in data]


def emails_of(tmp_path: Path) -> list[str]:
    header, rows = read_rows(tmp_path / "pool.csv")
    return [row[header.index("email")] for row in rows]


def test_same_inputs_give_byte_identical_files(tmp_path: Path) -> None:
    select(tmp_path, tmp_path / "a")
    select(tmp_path, tmp_path / "b")
    for name in ("record.json", "distribution.json", "selected.csv", "probabilities.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_the_panel_names_withheld_members_by_their_place(tmp_path: Path) -> None:
    out = tmp_path / "panel"
    select(tmp_path, out)
    record = record_of(out)
    assert rederive_from_public_record(record) == record["panel"]
    places = [parse_placeholder(p) for p in record["panel"]]
    assert any(places)  # this seed draws members of withheld types
    # the organiser's selected.csv is the panel: the place in the type, in pseudonym order
    key = PseudonymKey(KEY)
    loaded = load_input(
        tmp_path / "pool.csv", tmp_path / "quotas.csv", 20, "email", pseudonym_key=key
    )
    table = type_table(pseudonymised_pool(loaded.instance.pool, loaded.instance.quotas), key, 5)
    assert table.units == record["pool"]
    header, rows = read_rows(out / "selected.csv")
    pseudonym_of = dict(csv.reader((out / "private" / "pseudonyms.csv").open(encoding="utf-8")))
    drawn = sorted(pseudonym_of[row[header.index("email")]] for row in rows)
    assert drawn == sorted(table.person(p) for p in record["panel"])
    first = next(u for u in range(len(table.units)) if table.is_withheld(u))
    assert table.person(placeholder(first, 0)) == table.members[first][0]


def test_verify_public_alone_and_with_the_pool_and_key(tmp_path: Path) -> None:
    out = tmp_path / "panel"
    pool, _quotas, key, _ = select(tmp_path, out)
    record = out / "record.json"
    code, text = verify(record)
    assert code == 0, text
    assert "within bounds" in text and "[ok] types:" in text and "[ok] draw:" in text
    assert "[ok] certificate" in text
    code, text = verify(record, "--pool", pool, "--pseudonym-key", key, "--recompute")
    assert code == 0, text
    assert "[ok] pool file" in text and "[ok] recompute" in text
    assert "within bounds" not in text  # every quota exactly, the withheld values known
    code, text = verify(record, "--recompute")
    assert code == 2 and "--pool FILE and --pseudonym-key KEY" in text
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(b"another key of sixteen bytes or more")
    code, text = verify(record, "--pool", pool, "--pseudonym-key", wrong)
    assert code == 1 and "[MISMATCH] pseudonym key" in text and "[MISMATCH] pool file" in text


def rewrite(path: Path, record: dict[str, Any], digests: bool = True) -> None:
    """Save a tampered record, its pool digest and commitment made to match when asked."""
    if digests:
        record["inputs"]["pool"]["digest"] = hashlib.sha256(
            canonical_json(record["pool"])
        ).hexdigest()
        record["commitment"]["sha256"] = commitment_sha256(record)
    path.write_text(json_text(record), encoding="utf-8")


def test_tampering_fails_verify(tmp_path: Path) -> None:
    out = tmp_path / "panel"
    pool, _, key, _ = select(tmp_path, out)
    original = record_of(out)
    path = tmp_path / "tampered.json"

    panel = json.loads(json.dumps(original))
    public = next(p for p in panel["pool"][0]["members"] if p not in panel["panel"])
    panel["panel"][0] = public
    rewrite(path, panel)
    code, text = verify(path)
    assert code == 1 and "[MISMATCH] draw" in text

    size = json.loads(json.dumps(original))
    withheld = next(u for u in size["pool"] if "withheld" in u)
    withheld["people"] += 10  # a withheld type grown past T
    size["distribution"]["units"] = size["pool"]
    rewrite(path, size)
    code, text = verify(path)
    assert code == 1 and "[MISMATCH] types" in text

    probability = json.loads(json.dumps(original))
    probability["probabilities"][0] += 0.01
    rewrite(path, probability)
    code, text = verify(path)
    assert code == 1 and "[MISMATCH] probabilities" in text

    unchanged = json.loads(json.dumps(original))
    unchanged["commitment"]["sha256"] = "0" * 64
    rewrite(path, unchanged, digests=False)
    code, text = verify(path)
    assert code == 1 and "[MISMATCH] commitment" in text

    # A withheld type's digest swapped for another (order kept): the public record holds
    # together, only the auditor with the pool and the key sees it.
    digest = json.loads(json.dumps(original))
    units = digest["pool"]
    last = max(i for i, u in enumerate(units) if "withheld" in u)
    units[last]["withheld"] = "f" * 64
    digest["distribution"]["units"] = units
    rewrite(path, digest)
    code, text = verify(path)
    assert code == 0, text
    code, text = verify(path, "--pool", pool, "--pseudonym-key", key)
    assert code == 1 and "[MISMATCH] pool file" in text


def test_commit_then_draw_with_published_types(tmp_path: Path) -> None:
    pool, quotas, key, emails = inputs(tmp_path)
    common = ["--pool", pool, "--quotas", quotas, "-k", 20, "--id-column", "email"]
    made = run_cli(
        ["commit", *common, "--pseudonym-key", key, "--publish-types", "--out", tmp_path / "c"]
    )
    assert made.exit_code == 0, made.stderr
    assert "types of fewer than 5 people withheld" in made.stdout
    commitment = tmp_path / "c" / "commitment.json"
    draw = ["draw", "--commitment", commitment, "--dice", "1,2,3"]
    alone = run_cli([*draw, "--out", tmp_path / "public"])
    assert alone.exit_code == 0, alone.stderr
    full = run_cli([*draw, "--pool", pool, "--pseudonym-key", key, "--out", tmp_path / "d"])
    assert full.exit_code == 0, full.stderr
    public = (tmp_path / "public" / "record.json").read_bytes()
    assert public == (tmp_path / "d" / "record.json").read_bytes()
    record = json.loads(public)
    assert rederive_from_public_record(record) == record["panel"]
    _header, rows = read_rows(tmp_path / "d" / "selected.csv")
    assert len(rows) == 20
    for data in (commitment.read_bytes(), public):
        assert not [e for e in emails if e.encode() in data]
    assert verify(tmp_path / "d" / "record.json", "--pool", pool, "--pseudonym-key", key)[0] == 0
    other = tmp_path / "other.csv"
    other.write_text(pool.read_text(encoding="utf-8").replace(",female,", ",male,", 1))
    refused = run_cli([*draw, "--pool", other, "--pseudonym-key", key, "--out", tmp_path / "e"])
    assert refused.exit_code == 2 and "not the pool the commitment was made from" in refused.stderr


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (("--algorithm", "legacy"), "needs a fair algorithm"),
        (("--household-columns", "address,postcode"), "does not go with --household-columns"),
        (("--panels", "10"), "does not go with --panels"),
        (("--per-person",), "does not go with --per-person"),
    ],
)
def test_refused_where_types_cannot_be_published(
    tmp_path: Path, extra: tuple[str, ...], words: str
) -> None:
    pool, quotas, key, _ = inputs(tmp_path)
    args = ["select", "--pool", pool, "--quotas", quotas, "-k", 20, "--id-column", "email"]
    result = run_cli(
        [*args, "--pseudonym-key", key, "--publish-types", *extra, "--out", tmp_path / "o"]
    )
    assert result.exit_code == 2 and words in result.stderr
    assert not (tmp_path / "o").exists()


def test_refused_without_a_key(tmp_path: Path) -> None:
    pool, quotas, _, _ = inputs(tmp_path)
    args = ["select", "--pool", pool, "--quotas", quotas, "-k", 20, "--ids-are-public"]
    result = run_cli([*args, "--publish-types", "--out", tmp_path / "o"])
    assert result.exit_code == 2 and "needs --pseudonym-key" in result.stderr
    assert not (tmp_path / "o").exists()


def test_threshold_one_withholds_nothing_and_recomputes_from_the_record(tmp_path: Path) -> None:
    out = tmp_path / "panel"
    select(tmp_path, out, "--min-type-size", 1, "--algorithm", "maximin")
    record = record_of(out)
    assert record["inputs"]["pool"]["publish_types"]["withheld_people"] == 0
    assert not [p for p in record["panel"] if parse_placeholder(p)]
    code, text = verify(out / "record.json", "--recompute")
    assert code == 0, text


def test_schema_accepts_a_record_with_published_types(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "docs" / "record.schema.json").read_text(encoding="utf-8"))
    out = tmp_path / "panel"
    select(tmp_path, out)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(record_of(out)))
    assert not errors, errors[0].message


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from("xyz")), min_size=1, max_size=40),
    st.integers(min_value=1, max_value=6),
)
def test_type_table_invariants(rows: list[tuple[str, str]], threshold: int) -> None:
    key = PseudonymKey(KEY)
    pool = [
        {"id": f"{i:04x}", "household": None, "values": {"f": f, "g": g}}
        for i, (f, g) in enumerate(rows)
    ]
    table = type_table(pool, key, threshold)
    size = Counter(rows)
    assert sum(u["people"] for u in table.units) == len(rows)
    names = table.published_ids()
    assert sorted(names) == sorted(p["id"] for p in pool)
    for person, name in names.items():
        assert table.person(name) == person
    for u, unit in enumerate(table.units):
        values = table.values[u]
        assert unit["people"] == size[(values["f"], values["g"])] == len(table.members[u])
        assert ("withheld" in unit) == (unit["people"] < threshold)
        if "withheld" in unit:
            assert "values" not in unit and "members" not in unit
    assert type_table(pool, key, threshold) == table  # deterministic


# --------------------------------------------------------------------------- what is withheld


@pytest.mark.parametrize(
    ("name", "shares"),
    [
        ("ces11_k60", {1: (0, 0.0), 2: (353, 15.8), 5: (1042, 46.7)}),
        ("gss_k150", {1: (0, 0.0), 2: (58, 0.9), 5: (417, 6.4)}),
    ],
)
def test_docs_privacy_share_withheld(name: str, shares: dict[int, tuple[int, float]]) -> None:
    """docs/privacy.md section 7: the share of volunteers withheld at T = 1, 2 and 5."""
    instance = runnable_instance(name)
    loaded = load_input(instance.pool, instance.quotas, instance.k, ids_are_public=True)
    rows = pseudonymised_pool(loaded.instance.pool, loaded.instance.quotas)
    text = (REPO / "docs" / "privacy.md").read_text(encoding="utf-8")
    for threshold, (people, share) in shares.items():
        table = type_table(rows, PseudonymKey(KEY), threshold)
        assert table.summary()["withheld_people"] == people
        assert type_sizes(loaded.instance.pool, threshold).in_small == people
        assert f"{people / len(rows) * 100:.1f}" == f"{share:.1f}"
        assert f"| {name} | {threshold} | {people} ({share:.1f} %) |" in text


def test_replace_refuses_a_record_with_published_types(tmp_path: Path) -> None:
    out = tmp_path / "panel"
    pool, _, key, _ = select(tmp_path, out)
    record = record_of(out)
    dropout = next(p for p in record["panel"] if not parse_placeholder(p))
    result = run_cli(
        [
            "replace",
            "--record",
            out / "record.json",
            "--pool",
            pool,
            "--dropout",
            dropout,
            "--seed",
            "r",
            "--pseudonym-key",
            key,
            "--out",
            tmp_path / "r",
        ]
    )
    assert result.exit_code == 2 and "lists type counts, not the people" in result.stderr
    assert not (tmp_path / "r").exists()


def test_a_record_without_its_digests_is_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "panel"
    select(tmp_path, out)
    record = record_of(out)
    del record["inputs"]["quotas"]
    path = tmp_path / "broken.json"
    path.write_text(json_text(record), encoding="utf-8")
    code, text = verify(path)
    assert code == 2 and "inputs.quotas.digest" in text and "Traceback" not in text


def test_verify_reads_a_renamed_id_column_with_id_column(tmp_path: Path) -> None:
    """The library's ``id_column``: the pool file's id column has another name now."""
    out = tmp_path / "panel"
    pool, _, key, _ = select(tmp_path, out)
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(pool.read_text(encoding="utf-8").replace("email", "address_e", 1))
    record = out / "record.json"
    assert verify(record, "--pool", renamed, "--pseudonym-key", key)[0] == 1  # no such column
    report = verify_record(record, renamed, pseudonym_key=key, id_column="address_e")
    assert report.ok, report.failed()


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from("xyz")), min_size=8, max_size=24),
    st.integers(min_value=1, max_value=4),
    st.sampled_from(["leximin", "maximin", "nash"]),
)
@example(  # withheld members first by placeholder, not by pseudonym: NASH ended elsewhere
    rows=[("a", "x")] * 3 + [("a", "y")] * 2 + [("b", "x"), ("a", "z"), ("b", "x")],
    threshold=3,
    algorithm="nash",
)
def test_random_pools_verify_in_public_and_with_the_key(
    rows: list[tuple[str, str]], threshold: int, algorithm: str
) -> None:
    """Any pool, any T: the record verifies from the public record alone and with the pool
    and the key, and its placeholders name the people selected.csv holds."""
    import tempfile

    from sortition.selection.service import select_panel, write_selection

    k = 4
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        pool, quotas = base / "pool.csv", base / "quotas.csv"
        pool.write_text(
            "id,f,g\n" + "".join(f"v{i}@x.org,{f},{g}\n" for i, (f, g) in enumerate(rows)),
            encoding="utf-8",
        )
        quotas.write_text(
            "feature,value,min,max\nf,a,0,4\nf,b,0,4\ng,x,0,4\ng,y,0,4\ng,z,0,4\n",
            encoding="utf-8",
        )
        key = PseudonymKey(KEY)
        loaded = load_input(pool, quotas, k, "id", pseudonym_key=key)
        selection = select_panel(loaded, algorithm, "random", min_type_size=threshold)
        write_selection(selection, base / "out")
        record = base / "out" / "record.json"
        published = json.loads(record.read_text(encoding="utf-8"))
        assert rederive_from_public_record(published) == published["panel"]
        assert verify_record(record).ok
        assert verify_record(record, pool, pseudonym_key=key, recompute=True).ok
        selected = sorted(loaded.instance.pool.ids[i] for i in selection.panel)
        assert selection.draw.panel == published["panel"]
        table = type_table(
            pseudonymised_pool(loaded.instance.pool, loaded.instance.quotas), key, threshold
        )
        assert sorted(table.person(p) for p in published["panel"]) == selected
        data = record.read_bytes()
        assert b"@x.org" not in data
        for u, unit in enumerate(table.units):
            if "withheld" in unit:
                assert not [p for p in table.members[u] if p.encode() in data]


def test_the_public_quota_check_within_bounds(tmp_path: Path) -> None:
    """Where withheld members' values are not known, the quotas are checked within bounds: the
    drawn panel passes; a lone withheld member cannot fill quotas whose minimums need more."""
    from sortition.verify.types import _quota_problems, read_types

    out = tmp_path / "panel"
    select(tmp_path, out)
    parts = read_types(record_of(out), "record.json", with_draw=True)
    unit_of = parts.unit_of()
    drawn = Counter(unit_of[p] for p in parts.panel)
    assert any(parts.values[u] is None for u in drawn)
    problems, hidden = _quota_problems(parts, drawn, "")
    assert not problems and hidden == sum(c for u, c in drawn.items() if parts.values[u] is None)
    lone = Counter({parts.withheld[0]: 1})
    problems, hidden = _quota_problems(parts, lone, "")
    assert hidden == 1 and problems  # 1 member cannot reach 10 women
    # Each value alone could be met by the one withheld member, but not both at once.
    from types import SimpleNamespace

    from sortition.model import Quotas, ValueQuota

    both = Quotas(
        (
            ValueQuota("gender", "female", 1, 1, None, None),
            ValueQuota("gender", "male", 1, 1, None, None),
        )
    )
    tiny: Any = SimpleNamespace(quotas=both, values=[None, {"gender": "female"}])
    problems, hidden = _quota_problems(tiny, Counter({0: 1}), "")
    assert hidden == 1 and problems == [
        "gender: the 1 members of withheld types cannot fill the quotas (they need 2 more, have "
        "room for 2)"
    ]
    assert _quota_problems(tiny, Counter({0: 1, 1: 1}), "") == ([], 1)
