"""sortition groups keeps its record pseudonymous (docs/privacy.md, docs/groups.md): ids that look
personal are refused without a key; with one, groups.json and summary.json carry select's keyed
pseudonyms only (searched byte by byte), the seating follows the pseudonyms' order, the same key
gives byte-identical files, verify re-derives the seating from the public record and checks the
panel file with the key, and --reseat needs the record's key."""

from __future__ import annotations

import json
from pathlib import Path
from random import Random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sortition.groups.service import seat_panel
from sortition.privacy.keys import PseudonymKey
from sortition.privacy.pseudonyms import pseudonymise
from tests.helpers import run_cli

KEY = b"sortition-test-key-0001"
OTHER_KEY = b"sortition-test-key-0002"
ROWS = [
    f"p{x:02d}@example.org,Name{x} Surname{x},{'fm'[x % 2]},{'yom'[x % 3]},o{x % 7}"
    for x in range(24)
]
HEADER = "email,name,gender,age,org"
PUBLISHED = ("groups.json", "summary.json")


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _panel(tmp_path: Path, rows: list[str] = ROWS, name: str = "panel.csv") -> Path:
    return _write(tmp_path, name, "\n".join([HEADER, *rows]) + "\n")


def _groups(tmp_path: Path, panel: Path, *extra: object, out: str = "out") -> tuple[int, str, str]:
    result = run_cli(["groups", "--panel", panel, "--id-column", "email", "--size", "4",
                      "--rounds", "3", "--balance", "gender,age", "--apart", "org",
                      "--name-column", "name", "--seed", "s", "--effort", "5000",
                      *extra, "--out", tmp_path / out])  # fmt: skip
    return result.exit_code, result.stdout, result.stderr


def _record(tmp_path: Path, out: str = "out") -> dict:
    return json.loads((tmp_path / out / "groups.json").read_text(encoding="utf-8"))


def test_email_ids_are_refused_without_a_key(tmp_path: Path) -> None:
    panel = _panel(tmp_path)
    code, _, stderr = _groups(tmp_path, panel)
    assert code == 2
    assert "panel.csv, row 1, column 'email'" in stderr and "sortition new-key" in stderr
    assert "Traceback" not in stderr and not (tmp_path / "out").exists()
    # ids in an 'id' column that are e-mail addresses: the row is named, the id never quoted
    panel = _write(tmp_path, "p2.csv", HEADER.replace("email", "id") + "\n" + "\n".join(ROWS))
    result = run_cli(["groups", "--panel", panel, "--size", "4", "--seed", "s",
                      "--out", tmp_path / "o2"])  # fmt: skip
    assert result.exit_code == 2 and "p2.csv, row 2, column 'id'" in result.stderr
    assert "example.org" not in result.stderr
    code, _, stderr = _groups(tmp_path, _panel(tmp_path), "--ids-are-public", out="public")
    assert code == 0, stderr
    assert "p00@example.org" in (tmp_path / "public" / "groups.json").read_text(encoding="utf-8")


def test_a_key_keeps_every_id_and_name_out_of_what_may_be_published(tmp_path: Path) -> None:
    panel, key = _panel(tmp_path), _write(tmp_path, "k.key", KEY)
    together = _write(tmp_path, "together.csv", "a,b\np01@example.org,p02@example.org\n")
    fixed = _write(tmp_path, "fixed.csv", "id,table\np03@example.org,2\n")
    code, stdout, stderr = _groups(tmp_path, panel, "--pseudonym-key", key,
                                   "--together", together, "--fixed", fixed)  # fmt: skip
    assert code == 0, stderr
    assert "may be published: groups.json, summary.json" in stdout
    kept = "keep private (never publish): groups.csv, seating.html, private/pseudonyms.csv"
    assert kept in stdout
    for name in PUBLISHED:
        data = (tmp_path / "out" / name).read_bytes()
        for x in range(24):
            assert f"p{x:02d}@".encode() not in data and f"Name{x}".encode() not in data
        assert b"example.org" not in data and b"Surname" not in data
    made = pseudonymise(PseudonymKey(KEY), [row.split(",")[0] for row in ROWS])
    of = dict(zip([row.split(",")[0] for row in ROWS], made.names, strict=True))
    record = _record(tmp_path)
    assert record["panel"]["pseudonyms"] == made.describe()
    assert record["panel"]["ids"] == sorted(made.names)  # the panel in the pseudonyms' order
    assert record["options"]["together"] == [sorted([of["p01@example.org"], of["p02@example.org"]])]
    assert record["options"]["fixed"] == [[of["p03@example.org"], 2, None]]
    for tables in record["seating"]:
        assert of["p03@example.org"] in tables[1]
        assert any({of["p01@example.org"], of["p02@example.org"]} <= set(t) for t in tables)
    # the organiser's files name people by their own ids; the private table maps them
    assert "p00@example.org" in (tmp_path / "out" / "groups.csv").read_text(encoding="utf-8")
    assert "Name0 Surname0" in (tmp_path / "out" / "seating.html").read_text(encoding="utf-8")
    table = (tmp_path / "out" / "private" / "pseudonyms.csv").read_text(encoding="utf-8")
    assert table.splitlines() == ["id,pseudonym", *(f"{i},{p}" for i, p in of.items())]
    # `sortition pseudonym` (what the organiser tells a volunteer) gives the record's pseudonym
    result = run_cli(["pseudonym", "--pseudonym-key", key, "--id", "p05@example.org"])
    assert result.stdout.strip() == of["p05@example.org"]


def test_same_key_byte_identical_and_the_row_order_does_not_matter(tmp_path: Path) -> None:
    key = _write(tmp_path, "k.key", KEY)
    code, _, stderr = _groups(tmp_path, _panel(tmp_path), "--pseudonym-key", key)
    assert code == 0, stderr
    code, _, stderr = _groups(tmp_path, _panel(tmp_path), "--pseudonym-key", key, out="again")
    assert code == 0, stderr
    for name in ("groups.csv", "groups.json", "summary.json", "seating.html"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()
    shuffled = _panel(tmp_path, ROWS[::-1], "shuffled.csv")
    code, _, stderr = _groups(tmp_path, shuffled, "--pseudonym-key", key, out="shuffled")
    assert code == 0, stderr
    first, second = _record(tmp_path), _record(tmp_path, "shuffled")
    assert first["seating"] == second["seating"] and first["panel"]["ids"] == second["panel"]["ids"]
    other = _write(tmp_path, "other.key", OTHER_KEY)
    code, _, stderr = _groups(tmp_path, _panel(tmp_path), "--pseudonym-key", other, out="other")
    assert code == 0, stderr
    assert not set(_record(tmp_path, "other")["panel"]["ids"]) & set(first["panel"]["ids"])


def test_verify_from_the_public_record_and_with_the_key(tmp_path: Path) -> None:
    panel, key = _panel(tmp_path), _write(tmp_path, "k.key", KEY)
    code, _, stderr = _groups(tmp_path, panel, "--pseudonym-key", key)
    assert code == 0, stderr
    record = tmp_path / "out" / "groups.json"
    result = run_cli(["verify", record])
    assert result.exit_code == 0, result.stdout
    assert "[ok] search" in result.stdout
    result = run_cli(["verify", record, "--panel", panel, "--pseudonym-key", key])
    assert result.exit_code == 0, result.stdout
    assert "[ok] pseudonym key" in result.stdout and "[ok] panel ids" in result.stdout
    wrong = _write(tmp_path, "wrong.key", OTHER_KEY)
    result = run_cli(["verify", record, "--panel", panel, "--pseudonym-key", wrong])
    assert result.exit_code == 1
    assert "[MISMATCH] pseudonym key" in result.stdout and "[MISMATCH] panel ids" in result.stdout
    # a panel whose balance values were changed since: the key finds the same people, not values
    changed = _panel(tmp_path, [ROWS[0].replace(",f,", ",m,"), *ROWS[1:]], "changed.csv")
    result = run_cli(["verify", record, "--panel", changed, "--pseudonym-key", key])
    assert result.exit_code == 1 and "1 people's balance values differ" in result.stdout
    # a key for a record naming people by their own ids does not apply
    code, _, stderr = _groups(tmp_path, panel, "--ids-are-public", out="plain")
    assert code == 0, stderr
    result = run_cli(["verify", tmp_path / "plain" / "groups.json", "--pseudonym-key", key])
    assert result.exit_code == 2 and "--pseudonym-key does not apply" in result.stderr


def test_reseat_needs_the_records_key(tmp_path: Path) -> None:
    panel, key = _panel(tmp_path), _write(tmp_path, "k.key", KEY)
    code, _, stderr = _groups(tmp_path, panel, "--pseudonym-key", key)
    assert code == 0, stderr
    record = tmp_path / "out" / "groups.json"
    result = run_cli(["groups", "--reseat", record, "--dropout", "p05@example.org",
                      "--out", tmp_path / "r0"])  # fmt: skip
    assert result.exit_code == 2 and "needs the organiser's key" in result.stderr
    wrong = _write(tmp_path, "wrong.key", OTHER_KEY)
    result = run_cli(["groups", "--reseat", record, "--dropout", "p05@example.org",
                      "--pseudonym-key", wrong, "--out", tmp_path / "r0"])  # fmt: skip
    assert result.exit_code == 2 and "it is another key" in result.stderr
    result = run_cli(["groups", "--reseat", record, "--dropout", "nobody@example.org",
                      "--pseudonym-key", key, "--out", tmp_path / "r0"])  # fmt: skip
    assert result.exit_code == 2 and "--dropout nobody@example.org: not seated" in result.stderr
    result = run_cli(["groups", "--reseat", record, "--dropout", "p05@example.org",
                      "--pseudonym-key", key, "--out", tmp_path / "r1"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    gone = pseudonymise(PseudonymKey(KEY), ["p05@example.org"]).names[0]
    after = _record(tmp_path, "r1")
    assert after["reseat"]["dropouts"] == [gone] and after["panel"]["pseudonyms"]
    assert b"example.org" not in (tmp_path / "r1" / "groups.json").read_bytes()
    assert run_cli(["verify", tmp_path / "r1" / "groups.json"]).exit_code == 0
    # the panel after a dropout and a replacement, read with the key
    new = _panel(tmp_path, [*ROWS[:5], *ROWS[6:], "q01@example.org,New One,m,y,o9"], "new.csv")
    result = run_cli(["groups", "--reseat", record, "--panel", new, "--name-column", "name",
                      "--pseudonym-key", key, "--out", tmp_path / "r2"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = (tmp_path / "r2" / "groups.json").read_bytes()
    assert b"example.org" not in data and b"New One" not in data
    newcomer = pseudonymise(PseudonymKey(KEY), ["q01@example.org"]).names[0]
    assert _record(tmp_path, "r2")["reseat"]["replacements"][0][0] == newcomer
    assert "q01@example.org" in (tmp_path / "r2" / "groups.csv").read_text(encoding="utf-8")
    assert (tmp_path / "r2" / "private" / "pseudonyms.csv").exists()
    result = run_cli(["verify", tmp_path / "r2" / "groups.json"])
    assert result.exit_code == 0, result.stdout


def test_a_panel_drawn_with_the_key_keeps_its_selection_pseudonyms(tmp_path: Path) -> None:
    from tests.test_privacy import select_with_key

    key, _ = select_with_key(tmp_path, tmp_path / "panel")
    selection = json.loads((tmp_path / "panel" / "record.json").read_text(encoding="utf-8"))
    result = run_cli(["groups", "--panel", tmp_path / "panel" / "selected.csv", "--id-column",
                      "email", "--size", "5", "--rounds", "2", "--seed", "t",
                      "--pseudonym-key", key, "--out", tmp_path / "tables"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    seated = _record(tmp_path, "tables")
    assert sorted(seated["panel"]["ids"]) == sorted(selection["panel"])
    assert seated["panel"]["pseudonyms"] == selection["inputs"]["pool"]["pseudonyms"]


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=st.integers(min_value=4, max_value=9),
    rounds=st.integers(min_value=1, max_value=2),
    seed=st.text("abc", min_size=1, max_size=3),
    data=st.randoms(use_true_random=False),
)
def test_with_a_key_the_seating_never_depends_on_the_row_order(
    tmp_path: Path, people: int, rounds: int, seed: str, data: Random
) -> None:
    rows = [
        f"x{i}@example.org,N{i} M,{data.choice('fm')},{data.choice('yo')},o{i}"
        for i in range(people)
    ]
    shuffled = rows[:]
    data.shuffle(shuffled)
    key = PseudonymKey(KEY)
    records = []
    for name, order in (("a.csv", rows), ("b.csv", shuffled)):
        panel = _panel(tmp_path, order, name)
        result = seat_panel(panel, rounds=rounds, seed=seed, tables=2, balance=["gender"],
                            id_column="email", effort=2000, pseudonym_key=key)  # fmt: skip
        record = dict(result.record)
        record["panel"] = {k: v for k, v in record["panel"].items() if k not in ("file", "sha256")}
        records.append(record)
        assert not any("example.org" in json.dumps(part) for part in record.values())
    assert records[0] == records[1]
