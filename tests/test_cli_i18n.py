"""The command line in English and Hebrew (sortition_cli.i18n): every message of the ``cli`` and
``library`` catalogues has its Hebrew translation with the same placeholders; nothing the
commands print is left outside the catalogue; ``--lang`` and the environment choose the
language, ``--lang`` first; the files written are the same bytes in every language."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
from pathlib import Path

import click
import pytest

babel = pytest.importorskip("babel")

from babel.messages.pofile import read_po  # noqa: E402
from sortition_cli.i18n import _, help_messages, language, set_language  # noqa: E402
from sortition_cli.main import cli  # noqa: E402

from sortition.cancel import INTERRUPTED_MESSAGE  # noqa: E402
from sortition.errors import InputError, Problem, problem  # noqa: E402
from sortition.i18n import po_path, translations  # noqa: E402
from tests.helpers import run_cli, select_args, sortition_command  # noqa: E402
from tests.message_words import words  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%(?:\([a-z_]+\))?[sdr%]")
HEBREW = re.compile(r"[\u0590-\u05ff]")


def _catalogues():
    spec = importlib.util.spec_from_file_location("catalogues", REPO / "scripts" / "catalogues.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


catalogues = _catalogues()


def translated(domain: str, language: str = "he") -> dict[str, object]:
    with po_path(domain, language).open("rb") as source:
        catalog = read_po(source, locale=language)
    return {
        (m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id and not m.fuzzy
    }


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def forms(message) -> tuple[str, ...]:
    """A message's translation, one form or (ngettext) each plural form."""
    return message.string if isinstance(message.string, tuple) else (message.string,)


def assert_same_placeholders(key: str, message) -> None:
    """Every form of the translation has the placeholders of the English singular or plural
    (a singular form may leave out the number, as English does: "1 move")."""
    sources = message.id if isinstance(message.id, tuple) else (message.id,)
    allowed = [placeholders(source) for source in sources]
    for form in forms(message):
        if form:
            assert placeholders(form) in allowed, (key, form)


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    set_language("en")


@pytest.mark.parametrize("domain", ["cli", "library"])
def test_every_message_has_its_hebrew_translation(domain: str) -> None:
    """A help text, an option or a printed message added without its Hebrew translation fails
    here (run scripts/messages, then translate the new entries of the .po file)."""
    messages = catalogues.messages(domain)
    ids = {m if isinstance(m, str) else m[0]: m for m in messages}
    hebrew = translated(domain)
    missing = sorted(key for key in ids if key not in hebrew or not all(forms(hebrew[key])))
    assert not missing, f"he/{domain}.po lacks a translation of: {missing} (run scripts/messages)"
    stale = sorted(set(hebrew) - set(ids))
    assert not stale, f"he/{domain}.po translates messages the code no longer has: {stale}"
    for key, message in hebrew.items():
        assert_same_placeholders(key, message)


def test_clicks_translated_messages_keep_their_placeholders() -> None:
    hebrew = translated("click")
    for needed in ("Usage:", "Options", "Missing option", "No such option {name!r}.", "required"):
        assert hebrew[needed].string, needed
    for key, message in hebrew.items():
        assert_same_placeholders(key, message)


def test_the_help_texts_are_found_by_walking_the_commands() -> None:
    """A help text is in the catalogue because it is in the command tree: an option another
    part of the tool adds with a plain help= is caught by the translation test above."""
    found = help_messages(cli)
    assert "Panel size." in found
    assert any(text.startswith("Select a panel of size k") for text in found)
    assert len(found) > 100
    probe = click.Command("probe", params=[click.Option(["--probe"], help="An untranslated one.")])
    cli.add_command(probe)
    try:
        assert "An untranslated one." in help_messages(cli)
    finally:
        del cli.commands["probe"]


PRINTERS = {"echo", "secho", "UsageError", "BadParameter", "ClickException"}
PROBLEMS = {"Problem", "InputError", "InfeasibleError", "TimeLimitError", "SortitionError"}


def test_no_help_text_shows_a_doubled_percent_sign() -> None:
    """click prints help texts as written (no %-formatting), so '%%' would show as it is."""
    assert [text for text in help_messages(cli) if "%%" in text] == []


def test_nothing_the_commands_print_bypasses_the_catalogue() -> None:
    """Text printed by cli/ (click.echo, usage errors) or raised as a problem is wrapped in
    ``_()``: a literal or an f-string with words in it (tests/message_words.py, the library
    guard's rule) is a message a Hebrew user would meet in English."""
    offenders = []
    for path in sorted((REPO / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name not in PRINTERS | PROBLEMS:
                continue
            argument = node.args[0]
            if isinstance(argument, ast.List) and argument.elts:
                argument = argument.elts[0]
            text = words(argument)
            if text is not None:
                offenders.append(f"{path.name}:{node.lineno}: {text!r}")
    assert not offenders, "wrap these in _() (sortition_cli.i18n):\n" + "\n".join(offenders)


def test_the_interrupted_message_is_the_librarys() -> None:
    from sortition_cli.reporting import INTERRUPTED

    assert INTERRUPTED == INTERRUPTED_MESSAGE


def test_problems_are_translated_by_the_entry_layer_and_stay_english_in_the_library() -> None:
    hebrew = translations("library", "he").gettext
    found = problem("file not found", file="חברים.csv", row=3, column="מגדר")
    assert str(found) == "חברים.csv, row 3, column 'מגדר': file not found"
    assert found.text(hebrew) == "חברים.csv, שורה 3, עמודה 'מגדר': הקובץ לא נמצא"
    plain = Problem("no template", file="a.csv")
    assert (
        plain.text(hebrew) == "a.csv: no template"
    )  # the message as written, its place translated


def test_help_in_hebrew_and_back() -> None:
    hebrew = run_cli(["--lang", "he", "select", "--help"])
    assert hebrew.exit_code == 0
    assert "בחירת פאנל בגודל k" in hebrew.stdout
    assert "שימוש:" in hebrew.stdout and "דוגמה:" in hebrew.stdout
    assert "--pool" in hebrew.stdout and "sortition select --pool" in hebrew.stdout
    assert "הצגת ההודעה הזו ויציאה." in hebrew.stdout  # click's own --help, made in English
    assert "Show this message" not in hebrew.stdout
    english = run_cli(["--lang", "en", "select", "--help"])
    assert "Select a panel of size k" in english.stdout and "Usage:" in english.stdout
    assert not HEBREW.search(english.stdout)
    set_language("he")
    assert _("wrote:") == "נכתבו:"
    set_language("en")
    assert language() == "en" and _("wrote:") == "wrote:"


def test_a_usage_error_in_hebrew() -> None:
    result = run_cli(["--lang", "he", "select", "--quotas", "q.csv", "-k", "3"])
    assert result.exit_code == 2
    assert "חסרה אפשרות" in result.stderr and "'--pool'" in result.stderr  # read first


def test_bad_input_in_hebrew(tmp_path: Path) -> None:
    args = select_args(tmp_path / "nope.csv", tmp_path / "q.csv", 3, out=tmp_path / "out")
    result = run_cli(["--lang", "he", *args])
    assert result.exit_code == 2
    assert "שגיאה (קלט שגוי):" in result.stderr
    assert "q.csv: הקובץ לא נמצא" in result.stderr  # the quotas are read first


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")
    }
    environment["LANG"] = "C.UTF-8"
    environment.update(env)
    return subprocess.run(
        sortition_command() + args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )


def test_the_language_from_lang_or_the_environment_and_the_same_files(
    tmp_path: Path, example_dir: Path
) -> None:
    """As a user types it: --lang he, LANG=he_IL.UTF-8, and --lang en over a Hebrew LANG; the
    three folders hold the same bytes."""
    base = select_args(example_dir / "pool.csv", example_dir / "quotas.csv", 20, seed="lang")
    base += ["--household-columns", "address,postcode"]
    runs = {
        "flag": _run(["--lang", "he", *base, "--out", "flag"], tmp_path),
        "env": _run([*base, "--out", "env"], tmp_path, LANG="he_IL.UTF-8"),
        "english": _run(["--lang", "en", *base, "--out", "english"], tmp_path, LANG="he_IL.UTF-8"),
    }
    for name, result in runs.items():
        assert result.returncode == 0, (name, result.stderr)
    for name in ("flag", "env"):
        assert "נכתבו:" in runs[name].stdout and "מותר לפרסום:" in runs[name].stdout
        assert "מאפיין" in runs[name].stdout  # the summary's heading
    assert "wrote:" in runs["english"].stdout and not HEBREW.search(
        runs["english"].stdout.replace("(he)", "")
    )
    names = sorted(p.name for p in (tmp_path / "english").iterdir())
    for folder in ("flag", "env"):
        assert sorted(p.name for p in (tmp_path / folder).iterdir()) == names
        for name in names:
            ours, theirs = tmp_path / folder / name, tmp_path / "english" / name
            assert ours.read_bytes() == theirs.read_bytes(), name


def test_bad_input_from_the_environment(tmp_path: Path) -> None:
    args = ["check", "--pool", "x.csv", "--quotas", "y.csv", "-k", "2"]
    result = _run(args, tmp_path, LANGUAGE="he")
    assert result.returncode == 2
    assert "y.csv: הקובץ לא נמצא" in result.stderr
    assert "Traceback" not in result.stderr


def test_input_error_keeps_english_text() -> None:
    error = InputError([problem("file not found", file="a.csv")])
    assert str(error) == "a.csv: file not found"


def bad_pool(folder: Path) -> Path:
    """The example pool with an unknown value in row 6 and an empty id in row 8."""
    from tests.helpers import EXAMPLE

    rows = (EXAMPLE / "pool.csv").read_text(encoding="utf-8").splitlines()
    rows[5] = rows[5].replace(",female,", ",femal,").replace(",male,", ",mal,")
    rows[7] = "," + rows[7].split(",", 1)[1]
    bad = folder / "bad pool.csv"
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return bad


def test_the_pool_readers_problems_in_hebrew(tmp_path: Path) -> None:
    """The problems a new organiser meets first, in Hebrew; the file, the column and the value
    as the file has them; English unchanged."""
    from tests.helpers import EXAMPLE

    args = ["check", "--pool", bad_pool(tmp_path), "--quotas", EXAMPLE / "quotas.csv", "-k", "20"]
    english = run_cli(args)
    hebrew = run_cli(["--lang", "he", *args])
    assert english.exit_code == hebrew.exit_code == 2
    assert "bad pool.csv, row 6, column 'gender': value 'femal' has no quota row" in english.stderr
    assert "bad pool.csv, row 8, column 'id': the id is empty" in english.stderr
    assert "bad pool.csv, שורה 6, עמודה 'gender': לערך 'femal' אין שורת מכסה" in hebrew.stderr
    assert "bad pool.csv, שורה 8, עמודה 'id': המזהה ריק" in hebrew.stderr
    assert len(english.stderr.splitlines()) == len(hebrew.stderr.splitlines())


def test_a_missing_feature_column_in_hebrew(tmp_path: Path) -> None:
    """A message with a part of its own (what the header holds), both translated."""
    pool = tmp_path / "pool.csv"
    pool.write_text("id,מגדר\n1,נקבה\n2,זכר\n", encoding="utf-8")
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("feature,value,min,max\nאזור,צפון,0,1\n", encoding="utf-8")
    result = run_cli(["--lang", "he", "check", "--pool", pool, "--quotas", quotas, "-k", "1"])
    assert result.exit_code == 2
    assert "אין עמודה למאפיין המכסה 'אזור'; שורת הכותרת" in result.stderr
    assert "'id', 'מגדר'" in result.stderr


def test_the_page_shows_the_same_hebrew_problems(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from tests.test_web import client, example_files, new_project

    bad = bad_pool(tmp_path)
    from tests.helpers import EXAMPLE

    args = ["--lang", "he", "check", "--pool", bad, "--quotas", EXAMPLE / "quotas.csv", "-k", "20"]
    lines = [line.strip() for line in run_cli(args).stderr.splitlines() if "שורה 6" in line]
    assert lines
    browser = client(tmp_path / "data")
    project = new_project(browser)
    response = browser.post(
        f"{project}/inputs?lang=he", files=example_files(pool=bad), data={"k": "20"}
    )
    assert response.status_code == 400
    for line in lines:
        assert line.replace("'", "&#39;") in response.text


def test_infeasible_quotas_and_warnings_in_hebrew(tmp_path: Path) -> None:
    """The reasons, the advice and the warnings a new organiser meets, in Hebrew; the same in
    English as before."""
    pool = tmp_path / "pool.csv"
    pool.write_text("id,מגדר\n1,נקבה\n2,נקבה\n3,זכר\n4,זכר\n", encoding="utf-8")
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("feature,value,min,max,notes\nמגדר,נקבה,3,3,x\nמגדר,זכר,0,0,y\n", "utf-8")
    args = ["check", "--pool", pool, "--quotas", quotas, "-k", "3"]
    english, hebrew = run_cli(args), run_cli(["--lang", "he", *args])
    assert english.exit_code == hebrew.exit_code == 3
    assert "מגדר נקבה: min is 3 but only 2 in the pool has this value" in english.stderr
    assert "מגדר זכר: raise max from 0 to 1" in english.stderr
    assert "warning: quotas.csv: ignored the column 'notes'" in english.stderr
    assert "מגדר נקבה: המינימום הוא 3 אבל רק ל-2 במאגר יש את הערך הזה" in hebrew.stderr
    assert "מגדר זכר: העלו את max מ-0 ל-1" in hebrew.stderr
    assert "סך השינוי: 2" in hebrew.stderr
    assert "אזהרה: quotas.csv: העמודה 'notes' הושמטה" in hebrew.stderr


def test_a_message_is_the_english_text_and_keeps_its_template() -> None:
    import json
    import pickle

    from sortition.errors import Message, translated

    text = Message("{feature} {value}: raise {bound} from {old} to {new}", feature="גיל",
                   value="16-29", bound="min", old=1, new=2)  # fmt: skip
    assert text == "גיל 16-29: raise min from 1 to 2" and isinstance(text, str)
    assert json.loads(json.dumps([text])) == [text]
    again = pickle.loads(pickle.dumps(text))
    assert again == text and again.template == text.template
    hebrew = translations("library", "he").gettext
    assert translated(text, hebrew) == "גיל 16-29: העלו את min מ-1 ל-2"
    assert translated("plain", hebrew) == "plain"
