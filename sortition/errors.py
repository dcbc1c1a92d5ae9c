"""Errors as values with a place, raised as one exception family the CLI turns into exit codes.

Messages are English. Those an entry layer may show in another language are written as a
template marked with ``N_`` (``problem(N_("column {name} is missing"), name=...)``): the
``Problem`` keeps the template and its parameters beside the English message, and the entry
layer (the CLI, the page) formats it with its own catalogue (``Problem.text(gettext)``, the
``library`` domain of sortition/i18n.py). ``str(problem)`` stays English, so the library never
needs to know a language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar


def N_(message: str) -> str:
    """Mark ``message`` for the ``library`` catalogue (scripts/messages); returns it as it is."""
    return message


def _english(message: str) -> str:
    return message


class Message(str):
    """English text (it is a ``str``: printed, compared, stored in JSON as it is) that keeps its
    template and values, so that an entry layer can show it in another language
    (``translated``). For the texts the library returns rather than raises: the feasibility
    advice, the readers' warnings."""

    template: str
    params: tuple[tuple[str, object], ...]

    def __new__(cls, template: str, **params: object) -> Message:
        values = {
            name: value if isinstance(value, Message | Problem) else str(value)
            for name, value in params.items()
        }
        text = super().__new__(cls, template.format(**{k: str(v) for k, v in values.items()}))
        text.template = template
        text.params = tuple(sorted(values.items()))
        return text

    def __reduce__(self) -> tuple[object, ...]:
        return (_message, (self.template, dict(self.params)))

    def text(self, gettext: Callable[[str], str] = _english) -> str:
        """The text with its words passed through ``gettext`` (values as they are)."""
        if gettext is _english:
            return str(self)
        values = {name: translated(value, gettext) for name, value in self.params}
        return gettext(self.template).format(**values)


def _message(template: str, params: dict[str, object]) -> Message:
    return Message(template, **params)


class Advice(Message):
    """A line of advice of an ``InfeasibleError``: a ``Message`` (English, translatable) that
    also says what kind of advice it is (``kind``: ``QUOTA_CHANGE``, ``TIME_LIMIT``, ...). The
    library says what; the command line and the page each word what their user can do about it
    (a time limit is raised with an option on the command line, and cannot be on the page) and
    head a change of the quotas apart from advice that is not one (``is_quota_change``)."""

    # The kinds: what the line is, so that each entry layer heads it and words what its own user
    # can do (the command line names its options; the page its fields, or the command line).
    QUOTA_CHANGE: ClassVar[str] = "quota change"  # one quota's min or max: feature, value,
    # bound ("min" or "max"), old, new
    CHANGE_TOTAL: ClassVar[str] = "change total"  # the total of the changes above it: total
    CHANGE_NOTE: ClassVar[str] = "change note"  # what the changes below it are for
    TIME_LIMIT: ClassVar[str] = "time limit"  # the smallest change was not found within the
    # time limit: seconds (a longer time limit can find it)
    NO_QUOTA_CHANGE: ClassVar[str] = "no quota change"  # no change of the quotas helps: the
    # line says what else can (a smaller k, more volunteers, ...)
    QUOTA_CHANGES: ClassVar[frozenset[str]] = frozenset({QUOTA_CHANGE, CHANGE_TOTAL, CHANGE_NOTE})

    kind: str

    def __new__(cls, template: str, kind: str, /, **params: object) -> Advice:
        text = super().__new__(cls, template, **params)
        assert isinstance(text, Advice)
        text.kind = kind
        return text

    def __reduce__(self) -> tuple[object, ...]:
        return (_advice, (self.template, self.kind, dict(self.params)))

    @classmethod
    def of(cls, message: str, kind: str) -> Advice:
        """``message`` (a ``Message``: its template and values) as advice of ``kind``."""
        if isinstance(message, Message):
            return cls(message.template, kind, **dict(message.params))
        return cls("{text}", kind, text=message)

    @property
    def is_quota_change(self) -> bool:
        """A change of the quotas (or its total, or a note on it), not other advice."""
        return self.kind in self.QUOTA_CHANGES


def _advice(template: str, kind: str, params: dict[str, object]) -> Advice:
    return Advice(template, kind, **params)


def split_advice(advice: list[str]) -> tuple[list[str], list[str]]:
    """(the lines that change the quotas, the other advice), each in its order: the two are
    headed apart ("the smallest change that makes a panel possible" heads only the first)."""
    changes: list[str] = [
        line for line in advice if isinstance(line, Advice) and line.is_quota_change
    ]
    others = [line for line in advice if not (isinstance(line, Advice) and line.is_quota_change)]
    return changes, others


def translated(text: object, gettext: Callable[[str], str]) -> str:
    """``text`` in the language of ``gettext`` where the library made it translatable (a
    ``Message`` or a ``Problem``), else as it is."""
    if isinstance(text, Message | Problem):
        return text.text(gettext)
    return str(text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, with where it is (file, row, column) when known.

    Rows are counted as a spreadsheet shows them: the header is row 1, the first person row 2.
    ``template`` and ``params``, when given (``problem``), let an entry layer translate it.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    template: str | None = None
    params: tuple[tuple[str, str | Problem | Message], ...] = ()

    def __str__(self) -> str:
        return self.text()

    def text(self, gettext: Callable[[str], str] = _english) -> str:
        """The problem with its place, its words passed through ``gettext`` (the caller's
        catalogue of the ``library`` domain; English without one). Values from the files (the
        file name, the column, the parameters) are shown as they are."""
        place = []
        if self.file is not None:
            place.append(self.file)
        if self.row is not None:
            place.append(gettext(N_("row {row}")).format(row=self.row))
        if self.column is not None:
            place.append(gettext(N_("column '{column}'")).format(column=self.column))
        message = translated(self.message, gettext)
        if self.template is not None and gettext is not _english:
            values = {name: translated(value, gettext) for name, value in self.params}
            message = gettext(self.template).format(**values)
        return f"{', '.join(place)}: {message}" if place else message


def problem(
    template: str,
    *,
    file: str | None = None,
    row: int | None = None,
    column: str | None = None,
    **params: object,
) -> Problem:
    """A ``Problem`` whose message ``template`` (marked ``N_``, with ``{name}`` placeholders) an
    entry layer can translate; ``params`` fill the placeholders (shown as they are), but for a
    ``Problem`` without a place, a part of the message that is translated in its turn."""
    values: dict[str, str | Problem | Message] = {
        name: value if isinstance(value, Problem | Message) else str(value)
        for name, value in params.items()
    }
    return Problem(
        template.format(**{name: str(value) for name, value in values.items()}),
        file=file,
        row=row,
        column=column,
        template=template,
        params=tuple(sorted(values.items())),
    )


class SortitionError(Exception):
    """Base of every error the tool reports to a user; carries the exit code."""

    exit_code = 2
    heading = N_("error")  # what the command line prints before the problems

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class InputError(SortitionError):
    """A file cannot be read or validated, or the arguments are wrong (exit 2)."""

    exit_code = 2
    heading = N_("bad input")


class InfeasibleError(SortitionError):
    """The quotas cannot be met (exit 3); ``advice`` says what can help: the smallest change of
    the quotas that makes a panel possible, or else what else can (each line an ``Advice``, whose
    ``kind`` tells a change of the quotas from the rest)."""

    exit_code = 3
    heading = N_("the quotas cannot be met")

    def __init__(self, problems: list[Problem] | str, advice: list[str] | None = None) -> None:
        super().__init__(problems)
        self.advice = advice or []


class TimeLimitError(SortitionError):
    """A time limit stopped the work (exit 4)."""

    exit_code = 4
    heading = N_("time limit")


class LotteryCoverageError(InfeasibleError):
    """No uniform lottery over the M panels asked for puts on a panel everyone whose probability
    is at least 1/M (exit 3, like quotas that cannot be met: the request cannot be satisfied)."""

    heading = N_("no lottery of that many panels gives everyone their chance")


def require_file(path: Path) -> None:
    """Raise an InputError naming ``path`` unless it is an existing file (not a folder)."""
    if path.is_dir():
        raise InputError([problem(N_("is a folder, not a file"), file=str(path))])
    if not path.exists():
        raise InputError([problem(N_("file not found"), file=str(path))])
