"""click's own messages in Hebrew, one test per kind a user meets as they type a command (a
missing option or argument, a choice or number or path that is not valid, an option or command
that does not exist with its "did you mean", the usage line and its placeholders, the --help
option's text), each unchanged in English; every click message a user can meet is in the
catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

babel = pytest.importorskip("babel")

from click.testing import CliRunner  # noqa: E402
from sortition_cli.i18n import set_language  # noqa: E402
from sortition_cli.main import cli  # noqa: E402

from tests.helpers import EXAMPLE, Result  # noqa: E402
from tests.test_cli_i18n import HEBREW, catalogues, forms, translated  # noqa: E402

# click's messages that report a bad declaration in the code (a bug of the tool, never met by a
# user who types a command): they stay English.
DEVELOPER_MESSAGES = frozenset(
    {
        "Argument {name!r} takes {nargs} values.",
        "Arguments take exactly one parameter declaration, got {length}: {decls}.",
        "Boolean option {decl!r} cannot use the same flag for true/false.",
        "Choice({choices})",
        "Could not determine name for option with declarations {decls!r}",
        "Invalid start character for option ({option})",
        "Name '{name}' defined twice",
        "No options defined but a name was passed ({name}). Did you mean to declare an argument "
        "instead? Did you mean to pass '--{name}'?",
        "Unknown color {colour!r}",
        "Unknown standard stream '{name}'",
    }
)


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    set_language("en")


def test_every_click_message_a_user_can_meet_has_its_hebrew_translation() -> None:
    messages = catalogues.messages("click")
    ids = {m if isinstance(m, str) else m[0] for m in messages}
    hebrew = translated("click")
    missing = sorted(
        key for key in ids - DEVELOPER_MESSAGES if key not in hebrew or not all(forms(hebrew[key]))
    )
    assert not missing, f"he/click.po lacks a translation of: {missing} (run scripts/messages)"
    assert ids >= DEVELOPER_MESSAGES, "a developer message click no longer has"


def run_cli(args: list[object]) -> Result:
    """The command as a user types it, named ``sortition`` in its usage line."""
    result = CliRunner().invoke(
        cli, [str(a) for a in args], prog_name="sortition", catch_exceptions=False
    )
    return Result(result.exit_code, result.stdout, result.stderr)


def both(args: list[object]) -> tuple[str, str]:
    """A usage error's stderr in English and in Hebrew (exit 2 both)."""
    english = run_cli(args)
    hebrew = run_cli(["--lang", "he", *args])
    assert english.exit_code == hebrew.exit_code == 2, (english.stderr, hebrew.stderr)
    assert not HEBREW.search(english.stderr)
    assert "Traceback" not in english.stderr + hebrew.stderr
    return english.stderr, hebrew.stderr


def test_a_missing_required_option_is_a_usage_error_in_every_command() -> None:
    """Each command's required options and arguments have no default: click (8.3 and later)
    takes an explicit default of None for a value given, so a missing --pool reached the
    command (an internal error) instead of click's "Missing option"."""
    import click

    unset = getattr(click.core, "UNSET", None)
    for name in sorted(cli.commands):
        for param in cli.commands[name].params:
            if param.required and unset is not None:
                assert param.default is unset, (name, param.name)
    for args in (["check", "--quotas", "q.csv", "-k", 3], ["invite", "--letters", 5]):
        english, hebrew = both(args)
        assert "Error: Missing option '--" in english, english
        assert "שגיאה: חסרה אפשרות '--" in hebrew, hebrew


def test_a_missing_option_and_the_usage_line() -> None:
    english, hebrew = both(["select", "--quotas", "q.csv", "-k", "3", "--out", "o"])
    assert "Usage: sortition select [OPTIONS]" in english
    assert "Try 'sortition select --help' for help." in english
    assert "Error: Missing option '--pool'." in english
    assert "שימוש: sortition select [אפשרויות]" in hebrew
    assert "לעזרה: 'sortition select --help'" in hebrew
    assert "שגיאה: חסרה אפשרות '--pool'." in hebrew


def test_a_missing_argument() -> None:
    english, hebrew = both(["verify"])
    assert "Usage: sortition verify [OPTIONS] RECORD" in english
    assert "Error: Missing argument 'RECORD'." in english
    assert "שימוש: sortition verify [אפשרויות] RECORD" in hebrew
    assert "שגיאה: חסר ארגומנט 'RECORD'." in hebrew


def test_an_unknown_command_with_did_you_mean() -> None:
    english, hebrew = both(["selct"])
    assert "Usage: sortition [OPTIONS] COMMAND [ARGS]..." in english
    assert "Error: No such command 'selct'. Did you mean 'select'?" in english
    assert "שימוש: sortition [אפשרויות] פקודה [ארגומנטים]..." in hebrew
    assert "שגיאה: אין פקודה 'selct'. האם התכוונתם ל-'select'?" in hebrew


def test_an_unknown_option_with_did_you_mean() -> None:
    english, hebrew = both(["select", "--poo", "x"])
    assert "Error: No such option '--poo'. (Possible options: --out, --pool)" in english or (
        "Error: No such option '--poo'. (Did you mean one of: '--out', '--pool'?)" in english
    )
    assert "שגיאה: אין אפשרות '--poo'. (האם התכוונתם לאחד מאלה: '--out', '--pool'?)" in hebrew
    english, hebrew = both(["check", "--qutas", "x"])
    assert "Error: No such option '--qutas'. Did you mean '--quotas'?" in english
    assert "שגיאה: אין אפשרות '--qutas'. האם התכוונתם ל-'--quotas'?" in hebrew


def test_an_invalid_choice() -> None:
    english, hebrew = both(["select", "--algorithm", "fastest"])
    assert "Error: Invalid value for '--algorithm': 'fastest' is not one of 'legacy'," in english
    assert "שגיאה: ערך לא תקין ל-'--algorithm': 'fastest' אינו אחד מ-'legacy'," in hebrew


def test_a_bad_number() -> None:
    english, hebrew = both(["select", "-k", "many"])
    assert "Error: Invalid value for '-k': 'many' is not a valid integer range." in english
    assert "שגיאה: ערך לא תקין ל-'-k': 'many' אינו מספר שלם בטווח תקין." in hebrew
    english, hebrew = both(["select", "--time-limit", "soon"])
    assert "'soon' is not a valid float range." in english
    assert "'soon' אינו מספר בטווח תקין." in hebrew
    english, hebrew = both(["invite", "--letters", "0"])
    assert "Error: Invalid value for '--letters': 0 is not in the range x>=1." in english
    assert "שגיאה: ערך לא תקין ל-'--letters': 0 אינו בטווח x>=1." in hebrew


def test_a_bad_path(tmp_path: Path) -> None:
    english, hebrew = both(["groups", "--panel", tmp_path, "--seed", "s", "--out", "o"])
    assert f"Error: Invalid value for '--panel': File '{tmp_path}' is a directory." in english
    assert f"שגיאה: ערך לא תקין ל-'--panel': קובץ '{tmp_path}' הוא תיקייה." in hebrew


def test_an_option_without_its_value_and_an_extra_argument() -> None:
    english, hebrew = both(["check", "--pool"])
    assert "Error: Option '--pool' requires an argument." in english
    assert "שגיאה: האפשרות '--pool' דורשת ארגומנט." in hebrew
    args = ["check", "--pool", EXAMPLE / "pool.csv", "--quotas", EXAMPLE / "quotas.csv"]
    english, hebrew = both([*args, "-k", "3", "surplus"])
    assert "Error: Got unexpected extra argument (surplus)" in english
    assert "שגיאה: ארגומנט נוסף לא צפוי (surplus)" in hebrew


def test_the_help_options_text_and_the_commands_heading() -> None:
    english = run_cli(["--help"])
    hebrew = run_cli(["--lang", "he", "--help"])
    assert english.exit_code == hebrew.exit_code == 0
    assert "Usage: sortition [OPTIONS] COMMAND [ARGS]..." in english.stdout
    assert "-h, --help" in english.stdout and "Show this message and exit." in english.stdout
    assert "Commands:" in english.stdout
    assert "שימוש: sortition [אפשרויות] פקודה [ארגומנטים]..." in hebrew.stdout
    assert "הצגת ההודעה הזו ויציאה." in hebrew.stdout and "פקודות:" in hebrew.stdout
    assert "Show this message" not in hebrew.stdout and "[OPTIONS]" not in hebrew.stdout


def test_a_users_value_named_like_a_type_stays_as_typed() -> None:
    """Only the type's name click fills in is translated, never a value or a name typed."""
    english, hebrew = both(["select", "-k", "integer"])
    assert "'integer' is not a valid integer range." in english
    assert "'integer' אינו מספר שלם בטווח תקין." in hebrew
    english, hebrew = both(["file"])
    assert "No such command 'file'." in english
    assert "אין פקודה 'file'." in hebrew


def test_the_option_lines_placeholders_in_hebrew_help() -> None:
    """An option line's placeholder (a type's name, the tool's FILE) in the help's language; a
    choice stays as it is typed, and an argument's as the usage line and its errors name it."""
    english = run_cli(["select", "--help"])
    hebrew = run_cli(["--lang", "he", "select", "--help"])
    assert english.exit_code == hebrew.exit_code == 0
    for line in ("--pool FILE", "-k INTEGER RANGE", "--seed TEXT", "--out DIRECTORY"):
        assert line in english.stdout
    for line in ("--pool קובץ", "-k מספר-שלם", "--seed טקסט", "--out תיקייה"):
        assert line in hebrew.stdout
    assert "[legacy|leximin|maximin|nash|goldilocks|diversimax]" in hebrew.stdout
    assert "FILE" not in hebrew.stdout and "TEXT" not in hebrew.stdout
    hebrew = run_cli(["--lang", "he", "verify", "--help"])
    assert "שימוש: sortition verify [אפשרויות] RECORD" in hebrew.stdout
    assert "--pool קובץ" in hebrew.stdout
    assert "--pool FILE" in run_cli(["select", "--help"]).stdout  # English again afterwards
