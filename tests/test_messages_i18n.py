"""The last English messages outside the record readers, in Hebrew, end to end as a user types
them: invite's --weight and --weights, match's --on, the table groups' options and rules, a file
whose content contradicts its name, the synthetic generators, a time limit. The English text of
each stays word for word; the Hebrew one names the same file, row, column and values."""

from __future__ import annotations

from pathlib import Path

import pytest

from sortition.errors import Message, Problem, TimeLimitError
from sortition.i18n import translations
from tests.helpers import EXAMPLE, run_cli

hebrew_catalogue = translations("library", "he").gettext


def both(args: list[object], code: int = 2) -> tuple[str, str]:
    """The command's stderr in English and in Hebrew; both exit with ``code``."""
    english = run_cli(args)
    hebrew = run_cli(["--lang", "he", *args])
    assert english.exit_code == hebrew.exit_code == code, (english.stderr, hebrew.stderr)
    assert "Traceback" not in english.stderr + hebrew.stderr
    assert len(english.stderr.splitlines()) == len(hebrew.stderr.splitlines())
    return english.stderr, hebrew.stderr


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "registry.csv"
    path.write_text("id,area\n1,north\n2,north\n3,south\n4,south\n", encoding="utf-8")
    return path


def invite(registry: Path, *extra: object) -> list[object]:
    out = registry.parent / "out"
    return ["invite", "--registry", registry, "--letters", 2, "--seed", "s", "--out", out, *extra]


# --weight as typed: (the option, the English problem, the Hebrew problem)
WEIGHTS = {
    "not a number": (
        "area=north:heavy",
        "--weight 'area=north:heavy': weight 'heavy' is not a positive decimal number",
        "--weight 'area=north:heavy': המשקל 'heavy' אינו מספר עשרוני חיובי",
    ),
    "zero": (
        "area=north:0",
        "--weight 'area=north:0': weight '0' must be above 0",
        "--weight 'area=north:0': המשקל '0' חייב להיות גדול מ־0",
    ),
    "no colon": (
        "area=north",
        "--weight 'area=north': expected COL=VALUE:WEIGHT, e.g. area=North:1.5",
        "--weight 'area=north': נדרש COL=VALUE:WEIGHT, למשל area=North:1.5",
    ),
    "another column": (
        "region=north:2",
        "--weight 'region=north:2': column 'region' is not the --stratify-by column 'area'",
        "--weight 'region=north:2': העמודה 'region' אינה העמודה של --stratify-by \u200f'area'",
    ),
}


@pytest.mark.parametrize("case", sorted(WEIGHTS))
def test_a_bad_weight_in_hebrew(case: str, registry: Path) -> None:
    option, english_text, hebrew_text = WEIGHTS[case]
    english, hebrew = both(invite(registry, "--stratify-by", "area", "--weight", option))
    assert english_text in english
    assert hebrew_text in hebrew
    assert not (registry.parent / "out").exists()


def test_weights_twice_and_without_stratify_by_in_hebrew(registry: Path) -> None:
    twice = ["--weight", "area=north:2", "--weight", "area=north:3"]
    english, hebrew = both(invite(registry, "--stratify-by", "area", *twice))
    assert "--weight 'area=north:3': stratum 'north' is weighted twice" in english
    assert "--weight 'area=north:3': לשכבה 'north' ניתן משקל פעמיים" in hebrew
    english, hebrew = both(invite(registry, "--weight", "area=north:2"))
    assert "--weight 'area=north:2': weights need --stratify-by COL" in english
    assert "--weight 'area=north:2': משקלות דורשים --stratify-by COL" in hebrew
    english, hebrew = both(invite(registry, "--stratify-by", "area", "--weight", "area=east:2"))
    assert (
        "registry.csv: a weight is given for stratum 'east', which no row of the registry has in "
        "column 'area'"
    ) in english
    assert "registry.csv: ניתן משקל לשכבה 'east', שאף שורה במרשם אינה מכילה בעמודה 'area'" in hebrew


def test_a_weights_file_in_hebrew(registry: Path, tmp_path: Path) -> None:
    weights = tmp_path / "weights.csv"
    weights.write_text("stratum,weight\nnorth,2\nsouth,-1\n", encoding="utf-8")
    english, hebrew = both(invite(registry, "--stratify-by", "area", "--weights", weights))
    assert (
        "weights.csv, row 3, column 'weight': weight '-1' is not a positive decimal number"
    ) in english
    assert "weights.csv, שורה 3, עמודה 'weight': המשקל '-1' אינו מספר עשרוני חיובי" in hebrew
    weights.write_text("area,factor\nnorth,2\n", encoding="utf-8")
    english, hebrew = both(invite(registry, "--stratify-by", "area", "--weights", weights))
    assert (
        "weights.csv, row 1: needs a 'weight' column and a 'stratum' (or 'area') column"
    ) in english
    assert "weights.csv, שורה 1: צריכה עמודת 'weight' ועמודת 'stratum' (או 'area')" in hebrew


def test_more_letters_than_households_in_hebrew(registry: Path) -> None:
    args = ["invite", "--registry", registry, "--letters", 9, "--seed", "s"]
    english, hebrew = both([*args, "--out", registry.parent / "out"])
    assert (
        "--letters 9 is more than the 4 households in the registry (everyone would be invited): "
        "lower --letters"
    ) in english
    assert "--letters 9 הוא יותר מ־4 משקי הבית שבמרשם (כולם היו מוזמנים)" in hebrew


def test_a_bad_match_on_in_hebrew(tmp_path: Path) -> None:
    invitations = tmp_path / "invitations.csv"
    invitations.write_text("id,address\n1,x\n", encoding="utf-8")
    registrations = tmp_path / "registrations.csv"
    registrations.write_text("name,address\nann,x\n", encoding="utf-8")
    args = ["match", "--invitations", invitations, "--registrations", registrations]
    english, hebrew = both([*args, "--on", "address,postcode", "--out", tmp_path / "out"])
    assert (
        "invitations.csv, row 1: has no column 'postcode' (--on); its columns are id, address"
    ) in english
    assert (
        "invitations.csv, שורה 1: אין בו עמודה 'postcode' \u200f(--on); העמודות שלו הן id, address"
    ) in hebrew
    english, hebrew = both([*args, "--on", ",", "--out", tmp_path / "out"])
    assert "--on needs at least one column" in english
    assert "--on דורש עמודה אחת לפחות" in hebrew
    assert not (tmp_path / "out").exists()


PANEL = "id,gender\n" + "".join(f"p{i:02d},{'fm'[i % 2]}\n" for i in range(1, 9))


def test_the_table_groups_options_and_rules_in_hebrew(tmp_path: Path) -> None:
    panel = tmp_path / "panel.csv"
    panel.write_text(PANEL, encoding="utf-8")
    base = ["groups", "--panel", panel, "--seed", "s", "--out", tmp_path / "out"]
    english, hebrew = both([*base, "--tables", 9])
    assert "--tables 9 is more tables than the panel's 8 people" in english
    assert "--tables 9 הוא יותר שולחנות מ־8 האנשים שבפאנל" in hebrew
    english, hebrew = both([*base, "--size", 2, "--tables", 4])
    assert "give one of --size (people a table) and --tables (how many tables)" in english
    assert "יש לתת אחת מהאפשרויות --size (אנשים לשולחן) ו־--tables (כמה שולחנות)" in hebrew
    together = tmp_path / "together.csv"
    together.write_text("a,b\np01,p02\np02,p03\n", encoding="utf-8")
    english, hebrew = both([*base, "--size", 2, "--together", together], code=3)
    assert "--together: p01, p02, p03 must share a table, but a table seats 2" in english
    assert "--together: p01, p02, p03 חייבים לשבת באותו שולחן, אבל בשולחן יש 2 מקומות" in hebrew
    english, hebrew = both([*base, "--tables", 2, "--apart", "gender"], code=3)
    assert (
        "--apart gender: 4 people share a value (p02, p04, p06, p08) but there are only 2 tables, "
        "so two of them must share one"
    ) in english
    assert (
        "--apart gender: ל־4 אנשים יש אותו ערך (p02, p04, p06, p08) אבל יש רק 2 שולחנות"
    ) in hebrew
    assert not (tmp_path / "out").exists()


def test_a_reseat_of_someone_not_seated_in_hebrew(tmp_path: Path) -> None:
    panel = tmp_path / "panel.csv"
    panel.write_text(PANEL, encoding="utf-8")
    seated = run_cli(["groups", "--panel", panel, "--tables", 2, "--seed", "s", "--out",
                      tmp_path / "out"])  # fmt: skip
    assert seated.exit_code == 0, seated.stderr
    args = ["groups", "--reseat", tmp_path / "out" / "groups.json", "--dropout", "p77"]
    english, hebrew = both([*args, "--out", tmp_path / "again"])
    assert "groups.json: --dropout p77: not seated in this record" in english
    assert "groups.json: --dropout p77: אינו מושב ברשומה הזו" in hebrew


def test_a_file_whose_content_contradicts_its_name_in_hebrew(tmp_path: Path) -> None:
    pool = tmp_path / "pool.xlsx"
    pool.write_text("id,gender\n1,f\n", encoding="utf-8")
    args = ["check", "--pool", pool, "--quotas", EXAMPLE / "quotas.csv", "-k", 1]
    english, hebrew = both(args)
    assert (
        "pool.xlsx: is not an Excel workbook (.xlsx), though its name says so; it looks like "
        "text, probably CSV (its first line is 'id,gender'): give it a name ending in .csv"
    ) in english
    assert (
        "pool.xlsx: אינו חוברת Excel \u200f(.xlsx), אף ששמו אומר כך; הוא נראה כמו טקסט, כנראה CSV "
        "(השורה הראשונה שלו היא 'id,gender'): יש לתת לו שם שמסתיים ב־.csv"
    ) in hebrew


def test_a_title_row_and_the_delimiter_in_hebrew(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("Volunteers 2026\nid,gender,age\n1,f,30\n", encoding="utf-8")
    args = ["check", "--pool", pool, "--quotas", EXAMPLE / "quotas.csv", "-k", 1]
    english, hebrew = both(args)
    assert (
        "pool.csv, row 1: looks like a title ('Volunteers 2026'), but the header must be row 1; "
        "row 2 looks like the header (id, gender, age): delete the rows above it"
    ) in english
    assert (
        "pool.csv, שורה 1: נראית כמו כותרת ('Volunteers 2026'), אבל שורת הכותרת חייבת להיות "
        "שורה 1; שורה 2 נראית כמו שורת הכותרת (id, gender, age): יש למחוק את השורות שמעליה"
    ) in hebrew
    pool.write_text("id;gender\n1;f\n", encoding="utf-8")
    english, hebrew = both(args)
    assert "the header row (columns separated by semicolons) holds 'id', 'gender'" in english
    assert "שורת הכותרת (עמודות מופרדות בנקודה-פסיק) מכילה את 'id', 'gender'" in hebrew


def test_the_generators_problems_in_hebrew(tmp_path: Path) -> None:
    english, hebrew = both(["generate", "--n", 5, "-k", 9, "--features", 2, "--seed", "s",
                            "--out", tmp_path / "out"])  # fmt: skip
    assert "the panel size k (9) cannot exceed the pool size n (5)" in english
    assert "גודל הפאנל k \u200f(9) אינו יכול לעלות על גודל המאגר n \u200f(5)" in hebrew
    english, hebrew = both(["generate", "--n", 5, "-k", 2, "--seed", "s", "--out", tmp_path / "o"])
    assert "give a number of features or a preset" in english
    assert "יש לתת מספר מאפיינים או תבנית מוכנה" in hebrew


def test_a_worded_part_of_a_problem_is_translated_in_its_turn() -> None:
    from sortition.synthetic.pools import generate_instance

    with pytest.raises(Exception) as raised:
        generate_instance(True, 1, (2,), "s")  # type: ignore[arg-type]
    (found,) = raised.value.problems  # type: ignore[attr-defined]
    assert str(found) == "the pool size n must be an integer, got True"
    assert found.text(hebrew_catalogue) == "גודל המאגר n: חייב להיות מספר שלם, התקבל True"


def test_a_time_limit_of_a_fair_algorithm_and_of_the_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The time limit's problem keeps its template through the audit's join of them."""
    from sortition.audit import service
    from sortition.engine import objectives
    from sortition.engine.errors import TimeLimitReached

    def stopped(*args: object, **kwargs: object) -> None:
        raise TimeLimitReached

    monkeypatch.setattr(objectives, "objective", lambda algorithm: stopped)
    loaded = runnable_loaded()
    with pytest.raises(TimeLimitError) as raised:
        objectives.fair_distribution(loaded.instance, "maximin", time_limit=0.5)
    (found,) = raised.value.problems
    assert str(found) == "MAXIMIN did not finish within --time-limit 0.5 s"
    assert found.text(hebrew_catalogue) == "MAXIMIN לא הסתיים בתוך --time-limit 0.5 שניות"
    joined = service._joined([found, found])
    assert joined == f"{found}; {found}" and isinstance(joined, Message)
    hebrew = "MAXIMIN לא הסתיים בתוך --time-limit 0.5 שניות"
    assert Problem(joined).text(hebrew_catalogue) == f"{hebrew}; {hebrew}"


def runnable_loaded():  # type: ignore[no-untyped-def]
    import sortition

    return sortition.load(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20)


def test_the_seating_time_limit_and_a_dead_end_in_hebrew() -> None:
    from sortition.groups.service import _clock

    with pytest.raises(TimeLimitError) as raised:
        _clock(0.0, 0.001, 5000)(12)
    (found,) = raised.value.problems
    assert str(found) == (
        "the seating took more than 0.001 s (12 of 5000 moves): nothing was written; allow more "
        "time or a smaller --effort"
    )
    assert found.text(hebrew_catalogue).startswith("ההושבה ארכה יותר מ־0.001 שניות (12 מתוך 5000")


def test_ids_that_look_personal_in_hebrew(tmp_path: Path) -> None:
    rows = (EXAMPLE / "pool.csv").read_text(encoding="utf-8").splitlines()
    rows[3] = "ann@example.org," + rows[3].split(",", 1)[1]
    pool = tmp_path / "pool.csv"
    pool.write_text("\n".join(rows) + "\n", encoding="utf-8")
    args = ["select", "--pool", pool, "--quotas", EXAMPLE / "quotas.csv", "-k", 20, "--seed", "s"]
    english, hebrew = both([*args, "--out", tmp_path / "out"])
    assert (
        "pool.csv, row 4, column 'id': the ids look personal: the id contains '@' (an e-mail "
        "address); a record is made to be published, so these ids must not appear in it"
    ) in english
    assert (
        "pool.csv, שורה 4, עמודה 'id': המזהים נראים אישיים: המזהה מכיל '@' (כתובת דוא\"ל); "
        "רשומה נועדה לפרסום"
    ) in hebrew
    assert not (tmp_path / "out").exists()


def test_the_page_shows_a_title_row_in_hebrew(tmp_path: Path) -> None:
    """The page translates the same problems with the request's language."""
    pytest.importorskip("fastapi")
    from tests.test_web import client, example_files, new_project

    pool = tmp_path / "pool.csv"
    pool.write_text("Volunteers 2026\n" + (EXAMPLE / "pool.csv").read_text("utf-8"), "utf-8")
    browser = client(tmp_path / "data")
    project = new_project(browser)
    response = browser.post(
        f"{project}/inputs?lang=he", files=example_files(pool=pool), data={"k": "20"}
    )
    assert response.status_code == 400
    assert "נראית כמו כותרת (&#39;Volunteers 2026&#39;), אבל שורת הכותרת חייבת להיות" in (
        response.text
    )
