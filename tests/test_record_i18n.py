"""The record readers' and verify's own problems in Hebrew, end to end as a user types them: a
malformed record of each kind (selection, invitation, replacement, with type counts), a record
given options of another kind, a file that is not a record, and a commitment that is not what
`sortition commit` wrote. The English text of each stays word for word; the Hebrew one names the
same file and the same fields of the record."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sortition.errors import InputError
from sortition.i18n import translations
from sortition.record.draw import commitment_text
from sortition.record.reader import canonical_inputs
from tests.helpers import EXAMPLE, run_cli, runnable_instance, select_args
from tests.test_library_i18n import _replacement_record, both

Change = Callable[[dict[str, Any]], None]


def _written(folder: Path, name: str, document: dict[str, Any], change: Change) -> Path:
    """A copy of ``document`` changed by ``change``, written as ``name``."""
    changed = copy.deepcopy(document)
    change(changed)
    path = folder / name
    path.write_text(json.dumps(changed), encoding="utf-8")
    return path


def _lines(args: list[object]) -> tuple[str, str]:
    """The one problem line of a command that exits 2, in English and in Hebrew."""
    english, hebrew = both(args)
    assert english.splitlines()[0] == "error (bad input):", english
    assert hebrew.splitlines()[0] == "שגיאה (קלט שגוי):", hebrew
    return english.splitlines()[1].strip(), hebrew.splitlines()[1].strip()


@pytest.fixture(scope="module")
def selection(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("selection") / "out"
    result = run_cli(
        select_args(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, seed="s", out=out)
    )
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert document["algorithm"] == "leximin" and document["pool"][0]["id"] == "EV-0001"
    return document


def _first_feature(record: dict[str, Any]) -> str:
    return str(sorted(record["pool"][0]["values"])[0])


def _pop_value(record: dict[str, Any]) -> None:
    del record["pool"][0]["values"][_first_feature(record)]


def _martian(record: dict[str, Any]) -> None:
    record["pool"][0]["values"][_first_feature(record)] = "martian"


def _set(path: str, value: object) -> Change:
    """A change setting the key at ``path`` (dots; a number indexes a list) to ``value``."""

    def change(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = record
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value

    return change


SELECTION_CASES: list[tuple[str, Change, str, str]] = [
    (
        "min above max",
        lambda r: r["quotas"][0].update(min=r["quotas"][0]["max"] + 1),
        "invalid record: 'quotas[1]' has min 6 above max 5",
        "רשומה לא תקינה: ב־'quotas[1]' המינימום 6 גבוה מהמקסימום 5",
    ),
    (
        "an id twice",
        lambda r: r["pool"][1].update(id=r["pool"][0]["id"]),
        "invalid record: 'pool' lists id 'EV-0001' more than once",
        "רשומה לא תקינה: 'pool' מונה את המזהה 'EV-0001' יותר מפעם אחת",
    ),
    (
        "a value missing",
        _pop_value,
        "invalid record: 'pool[1]' (id 'EV-0001') must give a text value for exactly the quota "
        "features age, area, education, gender",
        "רשומה לא תקינה: 'pool[1]' (מזהה 'EV-0001') חייב לתת ערך טקסט בדיוק למאפייני המכסות "
        "age, area, education, gender",
    ),
    (
        "a value without a quota row",
        _martian,
        "invalid record: 'pool[1]' (id 'EV-0001'): age 'martian' has no quota row",
        "רשומה לא תקינה: 'pool[1]' (מזהה 'EV-0001'): ל־age 'martian' אין שורת מכסה",
    ),
    (
        "a quota's flex",
        _set("quotas.0.min_flex", -1),
        "invalid record: 'quotas[1].min_flex' must be a whole number ≥ 0 or null",
        "רשומה לא תקינה: 'quotas[1].min_flex' חייב להיות מספר שלם ≥ 0 או null",
    ),
    (
        "no quotas",
        _set("quotas", []),
        "invalid record: 'quotas' has no rows",
        "רשומה לא תקינה: ב־'quotas' אין שורות",
    ),
    (
        "an unknown algorithm",
        _set("algorithm", "magic"),
        "invalid record: unknown algorithm 'magic'",
        "רשומה לא תקינה: אלגוריתם לא מוכר 'magic'",
    ),
    (
        "a distribution path",
        _set("distribution.path", "both"),
        "invalid record: 'distribution.path' must be 'types' or 'people', not 'both'",
        "רשומה לא תקינה: 'distribution.path' חייב להיות 'types' או 'people', לא 'both'",
    ),
    (
        "no panels",
        _set("distribution.panels", []),
        "invalid record: 'distribution.panels' is empty",
        "רשומה לא תקינה: 'distribution.panels' ריק",
    ),
    (
        "never selectable",
        _set("distribution.never_selectable", "nobody"),
        "invalid record: 'distribution.never_selectable' must be a list of ids",
        "רשומה לא תקינה: 'distribution.never_selectable' חייב להיות רשימה של מזהים",
    ),
    (
        "empty households",
        _set("inputs.pool.allow_empty_household", "yes"),
        "invalid record: 'inputs.pool.allow_empty_household' must be true or false",
        "רשומה לא תקינה: 'inputs.pool.allow_empty_household' חייב להיות true או false",
    ),
    (
        "an unknown version",
        _set("version", 99),
        "unknown selection record version 99 (known: 3, 4, 5, 6)",
        "גרסה לא מוכרת 99 של רשומת בחירה (המוכרות: 3, 4, 5, 6)",
    ),
    (
        "no kind",
        lambda r: r.pop("kind"),
        "is not a record: it has no 'kind'",
        "אינו רשומה: אין בו 'kind'",
    ),
    (
        "an unknown kind",
        _set("kind", "minutes"),
        "unknown record kind 'minutes' (known: alternates, groups, invitation, replacement, "
        "selection)",
        "סוג רשומה לא מוכר 'minutes' (המוכרים: alternates, groups, invitation, replacement, "
        "selection)",
    ),
]


@pytest.mark.parametrize(
    ("change", "english", "hebrew"),
    [case[1:] for case in SELECTION_CASES],
    ids=[case[0] for case in SELECTION_CASES],
)
def test_a_malformed_selection_record_in_hebrew(
    selection: dict[str, Any], tmp_path: Path, change: Change, english: str, hebrew: str
) -> None:
    record = _written(tmp_path, "record.json", selection, change)
    assert _lines(["verify", record]) == (f"record.json: {english}", f"record.json: {hebrew}")


def test_files_that_are_not_records_in_hebrew(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert _lines(["verify", broken]) == (
        "broken.json: is not JSON (line 1, column 2: Expecting property name enclosed in double "
        "quotes)",
        "broken.json: אינו JSON (שורה 1, עמודה 2: Expecting property name enclosed in double "
        "quotes)",
    )
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]", encoding="utf-8")
    assert _lines(["verify", listing]) == (
        "list.json: is not a record: expected a JSON object",
        "list.json: אינו רשומה: היה צפוי אובייקט JSON",
    )
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"kind": "s\xe9lection"}')
    assert _lines(["verify", latin]) == (
        "latin.json: is not UTF-8 text (byte 11)",
        "latin.json: אינו טקסט UTF-8 (בית 11)",
    )


def test_options_of_another_kind_in_hebrew(selection: dict[str, Any], tmp_path: Path) -> None:
    record = _written(tmp_path, "record.json", selection, lambda r: None)
    assert _lines(["verify", record, "--registry", EXAMPLE / "pool.csv"]) == (
        "record.json: is selection record: --registry does not apply to it (a selection record "
        "takes --pool, --quotas, --recompute, --id-column, --expect and --pseudonym-key)",
        "record.json: היא רשומה מסוג בחירה: --registry אינה חלה עליה (רשומת בחירה מקבלת "
        "--pool, --quotas, --recompute, --id-column, --expect ו־--pseudonym-key)",
    )
    key = tmp_path / "organiser.key"
    assert run_cli(["new-key", key]).exit_code == 0
    assert _lines(["verify", record, "--pool", EXAMPLE / "pool.csv", "--pseudonym-key", key]) == (
        "record.json: names people by the pool file's own ids, not by keyed pseudonyms: "
        "--pseudonym-key does not apply to it",
        "record.json: מציינת אנשים לפי המזהים של קובץ המאגר עצמו, לא לפי כינויים מוצפנים במפתח: "
        "--pseudonym-key אינה חלה עליה",
    )


@pytest.fixture(scope="module")
def invitation(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    folder = tmp_path_factory.mktemp("invitation")
    registry = folder / "registry.csv"
    rows = [f"p{i},{'north' if i % 3 else 'south'}" for i in range(30)]
    registry.write_text("id,area\n" + "\n".join(rows) + "\n", encoding="utf-8")
    args = ["invite", "--registry", registry, "--letters", 6, "--stratify-by", "area"]
    result = run_cli([*args, "--seed", "hebrew", "--out", folder / "invited"])
    assert result.exit_code == 0, result.stderr
    record = json.loads((folder / "invited" / "record.json").read_text(encoding="utf-8"))
    return record, registry


INVITATION_CASES: list[tuple[str, Change, str, str]] = [
    (
        "a stratum",
        _set("allocation.strata.0", "north"),
        "'allocation.strata[1]' must be an object",
        "'allocation.strata[1]' חייב להיות אובייקט",
    ),
    (
        "an invitation",
        _set("invitations.1", 7),
        "'invitations[2]' must be an object",
        "'invitations[2]' חייב להיות אובייקט",
    ),
    (
        "the stratification column",
        _set("inputs.registry.stratify_by", 5),
        "'inputs.registry.stratify_by' must be a column name or null",
        "'inputs.registry.stratify_by' חייב להיות שם עמודה או null",
    ),
    (
        "the household columns",
        _set("inputs.registry.household_columns", "address"),
        "'inputs.registry.household_columns' must be a list of column names",
        "'inputs.registry.household_columns' חייב להיות רשימה של שמות עמודות",
    ),
    (
        "empty households",
        _set("inputs.registry.allow_empty_household", 1),
        "'inputs.registry.allow_empty_household' must be true or false",
        "'inputs.registry.allow_empty_household' חייב להיות true או false",
    ),
    (
        "the pseudonyms",
        _set("inputs.registry.pseudonyms", "yes"),
        "'inputs.registry.pseudonyms' must be an object or null",
        "'inputs.registry.pseudonyms' חייב להיות אובייקט או null",
    ),
]


@pytest.mark.parametrize(
    ("change", "english", "hebrew"),
    [case[1:] for case in INVITATION_CASES],
    ids=[case[0] for case in INVITATION_CASES],
)
def test_a_malformed_invitation_record_in_hebrew(
    invitation: tuple[dict[str, Any], Path],
    tmp_path: Path,
    change: Change,
    english: str,
    hebrew: str,
) -> None:
    document, registry = invitation
    record = _written(tmp_path, "record.json", document, change)
    assert _lines(["verify", record, "--registry", registry]) == (
        f"record.json: invalid record: {english}",
        f"record.json: רשומה לא תקינה: {hebrew}",
    )


def test_an_invitation_record_with_selection_options_in_hebrew(
    invitation: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    document, registry = invitation
    record = _written(tmp_path, "record.json", document, lambda r: None)
    args = ["verify", record, "--registry", registry, "--pool", registry, "--quotas", registry]
    assert _lines(args) == (
        "record.json: is invitation record: --pool, --quotas do not apply to it (an invitation "
        "record takes --registry and --pseudonym-key)",
        "record.json: היא רשומה מסוג הזמנות: --pool, --quotas אינן חלות עליה (רשומת הזמנות "
        "מקבלת --registry ו־--pseudonym-key)",
    )


@pytest.fixture(scope="module")
def replacement(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = _replacement_record(tmp_path_factory.mktemp("replacement"))
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def test_a_malformed_replacement_record_in_hebrew(
    replacement: dict[str, Any], tmp_path: Path
) -> None:
    record = _written(tmp_path, "replacement.json", replacement, _set("previous.kind", "groups"))
    assert _lines(["verify", record]) == (
        "replacement.json: invalid record: the chain of 'previous' records does not end in a "
        "selection record",
        "replacement.json: רשומה לא תקינה: שרשרת רשומות ה־'previous' אינה מסתיימת ברשומת בחירה",
    )
    record = _written(tmp_path, "replacement.json", replacement, _set("previous.pool", []))
    assert _lines(["verify", record]) == (
        "replacement.json: invalid record: 'pool' has no people",
        "replacement.json: רשומה לא תקינה: ב־'pool' אין אנשים",
    )


def test_a_replacement_chain_naming_a_stranger_in_hebrew(
    replacement: dict[str, Any], tmp_path: Path
) -> None:
    """``replace`` reads the chain before it draws: a panel member who is not in the original
    pool, or someone on the panel twice, is a malformed record."""
    member = replacement["panel"][0]
    for name, change, english, hebrew in (
        (
            "stranger.json",
            _set("panel.0", "nobody-here"),
            "invalid record: the chain's panel names 'nobody-here', who is not in the selection "
            "record's pool",
            "רשומה לא תקינה: ה־panel של השרשרת מציין את 'nobody-here', שאינו במאגר של רשומת הבחירה",
        ),
        (
            "twice.json",
            _set("panel.1", member),
            "invalid record: the panel lists someone twice",
            "רשומה לא תקינה: הפאנל מונה מישהו פעמיים",
        ),
    ):
        record = _written(tmp_path, name, replacement, change)
        args = ["replace", "--record", record, "--pool", EXAMPLE / "pool.csv", "--dropout",
                member, "--seed", "r2", "--out", tmp_path / "round2"]  # fmt: skip
        assert _lines(args) == (f"{name}: {english}", f"{name}: {hebrew}")
        assert not (tmp_path / "round2").exists()


@pytest.fixture(scope="module")
def types(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.test_publish_types import select

    folder = tmp_path_factory.mktemp("types")
    select(folder, folder / "out")
    document: dict[str, Any] = json.loads((folder / "out" / "record.json").read_text("utf-8"))
    return document


def _withheld(record: dict[str, Any]) -> int:
    return next(i for i, unit in enumerate(record["pool"]) if "withheld" in unit)


def _bad_digest(record: dict[str, Any]) -> None:
    record["pool"][_withheld(record)]["withheld"] = "abc"


TYPES_CASES: list[tuple[str, Change, str, str]] = [
    (
        "no types",
        _set("pool", []),
        "invalid record: 'pool' has no types",
        "רשומה לא תקינה: ב־'pool' אין טיפוסים",
    ),
    (
        "a unit",
        _set("pool.0", "x"),
        "invalid record: 'pool[1]' must be an object",
        "רשומה לא תקינה: 'pool[1]' חייב להיות אובייקט",
    ),
    (
        "a unit's values",
        _set("pool.0.values", {"age": 1}),
        "invalid record: 'pool[1].values' must map features to texts",
        "רשומה לא תקינה: 'pool[1].values' חייב למפות מאפיינים לטקסטים",
    ),
    (
        "the people path",
        _set("distribution.path", "people"),
        "invalid record: a record with type counts has a distribution on the types path",
        "רשומה לא תקינה: לרשומה עם ספירות טיפוסים יש התפלגות במסלול הטיפוסים",
    ),
    (
        "no panels",
        _set("distribution.panels", []),
        "invalid record: 'distribution.panels' is empty",
        "רשומה לא תקינה: 'distribution.panels' ריק",
    ),
    (
        "a count",
        _set("distribution.panels.0.counts", [[999, 1]]),
        "invalid record: 'distribution.panels[1].counts' must be [unit index, count] pairs of "
        "whole numbers (unit index below 82)",
        "רשומה לא תקינה: 'distribution.panels[1].counts' חייב להיות זוגות [unit index, count] "
        "של מספרים שלמים (אינדקס היחידה קטן מ־82)",
    ),
]


@pytest.mark.parametrize(
    ("change", "english", "hebrew"),
    [case[1:] for case in TYPES_CASES],
    ids=[case[0] for case in TYPES_CASES],
)
def test_a_malformed_record_with_type_counts_in_hebrew(
    types: dict[str, Any], tmp_path: Path, change: Change, english: str, hebrew: str
) -> None:
    assert len(types["pool"]) == 82  # the count case names it
    record = _written(tmp_path, "record.json", types, change)
    assert _lines(["verify", record]) == (f"record.json: {english}", f"record.json: {hebrew}")


def test_a_withheld_type_and_a_recompute_without_the_pool_in_hebrew(
    types: dict[str, Any], tmp_path: Path
) -> None:
    record = _written(tmp_path, "record.json", types, _bad_digest)
    where = _withheld(types) + 1
    assert _lines(["verify", record]) == (
        f"record.json: invalid record: 'pool[{where}]' must be "
        "{'withheld': 64 hex digits, 'people'}",
        f"record.json: רשומה לא תקינה: 'pool[{where}]' חייב להיות "
        "{'withheld': 64 ספרות הקסדצימליות, 'people'}",
    )
    record = _written(tmp_path, "record.json", types, lambda r: None)
    assert _lines(["verify", record, "--recompute"]) == (
        "record.json: withholds types: --recompute needs their values, so give --pool FILE and "
        "--pseudonym-key KEY too",
        "record.json: מסתירה טיפוסים: --recompute צריך את הערכים שלהם, ולכן יש לתת גם --pool FILE "
        "ו־--pseudonym-key KEY",
    )


def test_a_record_with_type_counts_cannot_give_its_people(types: dict[str, Any]) -> None:
    """The library's reader of the people (alternates, replace) refuses a record with type
    counts: English word for word, translatable."""
    with pytest.raises(InputError) as caught:
        canonical_inputs(types, "record.json")
    (found,) = caught.value.problems
    assert str(found) == (
        "record.json: invalid record: it lists type counts, not the people (--publish-types): "
        "this step needs the people of the pool, which such a record does not publish"
    )
    assert found.text(translations("library", "he").gettext) == (
        "record.json: רשומה לא תקינה: היא מונה ספירות טיפוסים, לא את האנשים (--publish-types): "
        "שלב זה צריך את האנשים של המאגר, שרשומה כזאת אינה מפרסמת"
    )


@pytest.fixture(scope="module")
def commitment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("commitment") / "out"
    args = ["commit", "--pool", EXAMPLE / "pool.csv", "--quotas", EXAMPLE / "quotas.csv",
            "-k", 20, "--algorithm", "legacy", "--out", out]  # fmt: skip
    result = run_cli(args)
    assert result.exit_code == 0, result.stderr
    return out / "commitment.json"


def test_a_commitment_that_is_not_what_commit_wrote_in_hebrew(
    commitment: Path, tmp_path: Path
) -> None:
    def draw(path: Path, *extra: object) -> tuple[str, str]:
        lines = _lines(
            ["draw", "--commitment", path, "--seed", "x", *extra, "--out", tmp_path / "d"]
        )
        assert not (tmp_path / "d").exists()
        return lines

    text = commitment.read_text(encoding="utf-8")
    changed = tmp_path / "changed.json"
    changed.write_text(text.replace('"legacy"', ' "legacy"', 1), encoding="utf-8")
    assert draw(changed) == (
        "changed.json: has been changed since 'sortition commit' wrote it (its bytes are not "
        "the canonical text of its content), so its published SHA-256 no longer applies",
        "changed.json: שונה מאז ש־'sortition commit' כתב אותו (הבתים שלו אינם הטקסט הקנוני של "
        "התוכן שלו), ולכן ה־SHA-256 שפורסם לו כבר אינו חל",
    )
    inconsistent = tmp_path / "inconsistent.json"
    document = json.loads(text)
    document["inputs"]["pool"]["digest"] = "0" * 64
    inconsistent.write_text(commitment_text(document), encoding="utf-8")
    assert draw(inconsistent) == (
        f"inconsistent.json: does not hold together: pool digest: record says {'0' * 64}, its "
        f"embedded pool gives {json.loads(text)['inputs']['pool']['digest']}",
        f"inconsistent.json: אינו עקבי: תמצית המאגר: ברשומה {'0' * 64}, והמאגר המוטמע בה נותן "
        f"{json.loads(text)['inputs']['pool']['digest']}",
    )
    other = tmp_path / "other.json"
    other.write_text('{"kind": "groups"}', encoding="utf-8")
    assert draw(other) == (
        "other.json: is not a commitment written by 'sortition commit'",
        "other.json: אינו התחייבות שנכתבה על ידי 'sortition commit'",
    )
    old = tmp_path / "old.json"
    old.write_text(json.dumps({**json.loads(text), "version": 1}), encoding="utf-8")
    assert draw(old) == (
        "old.json: invalid record: unknown version 1 (known: 3, 4, 5, 6)",
        "old.json: רשומה לא תקינה: גרסה לא מוכרת 1 (המוכרות: 3, 4, 5, 6)",
    )
    english, hebrew = draw(commitment, "--expect", "0" * 64)
    assert english.endswith(
        f"not the published {'0' * 64}: this is not the commitment that was published, so no "
        "draw is made from it"
    )
    assert hebrew.endswith(
        f"לא {'0' * 64} שפורסם: זו אינה ההתחייבות שפורסמה, ולכן לא נערכת ממנה הגרלה"
    )
    pool = tmp_path / "pool.csv"
    rows = (EXAMPLE / "pool.csv").read_text(encoding="utf-8").splitlines()
    pool.write_text("\n".join(rows[:-1]) + "\n", encoding="utf-8")
    english, hebrew = draw(commitment, "--pool", pool)
    assert english.startswith(
        "pool.csv: is not the pool the commitment was made from (canonical digest "
    )
    assert hebrew.startswith("pool.csv: אינו המאגר שממנו נעשתה ההתחייבות (התקציר הקנוני ")


def test_commit_options_that_do_not_go_together_in_hebrew(tmp_path: Path) -> None:
    base = ["commit", "--pool", EXAMPLE / "pool.csv", "--quotas", EXAMPLE / "quotas.csv",
            "-k", 20, "--out", tmp_path / "c"]  # fmt: skip
    english, hebrew = both([*base, "--algorithm", "legacy", "--panels", 3])
    assert (
        "--panels needs a distribution: use --algorithm leximin, maximin, nash or goldilocks"
        in (english)
    )
    assert (
        "--panels דורש התפלגות: יש להשתמש ב־--algorithm leximin, maximin, nash או goldilocks"
        in (hebrew)
    )
    english, hebrew = both([*base, "--algorithm", "legacy", "--diversity-within", 0.1])
    assert (
        "--diversity-within restricts a fair lottery: use it with --algorithm leximin, maximin, "
        "nash, goldilocks, not legacy"
    ) in english
    assert (
        "--diversity-within מגביל הגרלה הוגנת: יש להשתמש בו עם --algorithm leximin, maximin, "
        "nash, goldilocks, לא legacy"
    ) in hebrew
    english, hebrew = both([*base, "--diversity-within", 0.1, "--panels", 3])
    assert "--diversity-within with --panels is not supported yet" in english
    assert "--diversity-within עם --panels עדיין אינו נתמך" in hebrew
    english, hebrew = both(
        [*base, "--publish-types", "--per-person", "--household-columns", "address,postcode"]
    )
    assert english.splitlines()[1:] == [
        "  --publish-types needs --pseudonym-key (the key makes the digests of the withheld "
        "types, so that nobody without it can enumerate them)",
        "  --publish-types does not go with --per-person (the distribution would list people)",
        "  --publish-types does not go with --household-columns (a household links people of "
        "two types)",
    ]
    assert hebrew.splitlines()[1:] == [
        "  --publish-types דורשת --pseudonym-key (המפתח יוצר את התקצירים של הטיפוסים המוסתרים, "
        "כך שאיש ללא המפתח אינו יכול למנות אותם)",
        "  --publish-types אינה מתאימה ל־--per-person (ההתפלגות הייתה מונה אנשים)",
        "  --publish-types אינה מתאימה ל־--household-columns (משק בית מקשר אנשים משני טיפוסים)",
    ]
    assert not (tmp_path / "c").exists()


def test_a_lottery_that_leaves_someone_out_in_hebrew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """select --panels M refuses a lottery that leaves out someone whose probability is at least
    1/M (exit 3): forced as in tests/test_lottery_cli.py, by the per-type rounding alone."""
    from sortition.selection import service as selection
    from sortition.selection import transparent

    real = transparent.round_to_uniform

    def rounding_only(*args: Any, **options: Any) -> transparent.UniformLottery:
        return real(*args, **{**options, "method": transparent.BECK_FIALA})

    monkeypatch.setattr(selection, "round_to_uniform", rounding_only)
    case = runnable_instance("example_small_20")
    args = select_args(
        case.pool, case.quotas, case.k, "--panels", 10, algorithm="leximin", seed="x"
    )
    english, hebrew = both([*args, "--out", tmp_path / "out"], code=3)
    line = next(line.strip() for line in english.splitlines() if "--panels 10" in line)
    ours = next(line.strip() for line in hebrew.splitlines() if "--panels 10" in line)
    victim = line.split("would be on none (")[1].split(")")[0]
    assert line == (
        "--panels 10: the search found no lottery of 10 panels that puts everyone whose selection "
        f"probability is at least 1/10 on one of them: 1 volunteer would be on none ({victim}), "
        "which would take away their chance. Use a larger --panels, e.g. 100."
    )
    assert ours == (
        "--panels 10: החיפוש לא מצא הגרלה של 10 פאנלים שמכניסה לאחד מהם כל מי שהסתברות הבחירה "
        f"שלו היא לפחות 1/10: לא יהיה מקום באף פאנל ל־מתנדב אחד ({victim}), דבר שהיה שולל את "
        "הסיכוי שלהם. יש להשתמש ב־--panels גדול יותר, למשל 100."
    )
    assert not (tmp_path / "out").exists()


def _weightless(record: dict[str, Any]) -> None:
    for panel in record["distribution"]["panels"]:
        panel["weight"] = 0


def test_a_distribution_without_weight_in_hebrew(selection: dict[str, Any], tmp_path: Path) -> None:
    """The draw cannot be re-run from a distribution whose weights are all 0: the draw item says
    why in the reader's language (the library raises it with a Message)."""
    record = _written(tmp_path, "record.json", selection, _weightless)
    english = run_cli(["verify", record])
    hebrew = run_cli(["--lang", "he", "verify", record])
    assert english.exit_code == hebrew.exit_code == 1
    assert (
        "[MISMATCH] draw: seed 's': the draw cannot be re-run (the distribution has no weight)"
        in (english.stdout.splitlines())
    )
    assert "[אי-התאמה] ההגרלה: הזרע 's': אי אפשר להריץ את ההגרלה שוב (להתפלגות אין משקל)" in (
        hebrew.stdout.splitlines()
    )


def test_the_verify_page_shows_a_malformed_record_in_hebrew(
    selection: dict[str, Any], tmp_path: Path
) -> None:
    pytest.importorskip("fastapi")
    from markupsafe import escape

    from tests.test_web import client

    browser = client(tmp_path / "data")
    document = copy.deepcopy(selection)
    document["quotas"][0]["min"] = 9
    upload = {"record": ("record.json", json.dumps(document).encode(), "application/json")}
    for lang, text in (
        ("en", "record.json: invalid record: 'quotas[1]' has min 9 above max 5"),
        ("he", "record.json: רשומה לא תקינה: ב־'quotas[1]' המינימום 9 גבוה מהמקסימום 5"),
    ):
        page = browser.post(f"/verify?lang={lang}", files=upload).text
        assert str(escape(text)) in page, page


def test_a_malformed_groups_record_in_hebrew(
    groups_record: tuple[Path, Path], tmp_path: Path
) -> None:
    record = json.loads(groups_record[0].read_text(encoding="utf-8"))
    bad = _written(tmp_path, "groups.json", record, _set("result", []))
    english, hebrew = _lines(["verify", bad])
    assert english == (
        "groups.json: is not a complete groups record "
        "(TypeError: 'result' and 'panel' must be objects)"
    )
    assert hebrew.startswith("groups.json: ") and "'result' ו-'panel' חייבים להיות" in hebrew
    record["method"] = "reseat"
    record["reseat"] = {"original": {"kind": "selection"}, "dropouts": []}
    bad = _written(tmp_path, "reseat.json", record, lambda r: None)
    english, hebrew = _lines(["verify", bad])
    assert english == (
        "reseat.json: is not a complete reseat record ('reseat.original' must be a groups record)"
    )
    assert "'reseat.original' חייב להיות רשומת קבוצות" in hebrew
