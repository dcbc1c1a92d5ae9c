"""No plain English slips back into what the library shows a user (first written for the record
readers, verify and the selection; tests/test_message_guard.py walks the library another way).

An AST walk over sortition/: a text that reaches
an organiser (``RecordReader.fail``'s message, a ``Problem``'s message, a verify item's detail, a
``SortitionError`` raised with a text, a line added to a list of problems or reasons) must be
made translatable (``problem(N_(...))``, ``Message(N_(...))``, or a variable holding one), never
a string literal or an f-string, which would stay English in Hebrew. A template itself
(``N_``, ``problem``, ``Message``) must be a literal, never an f-string: the catalogue knows
only the literal. ``ALLOWED`` lists what genuinely is not for a user to read, with the reason."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("sortition",)

# The errors the command line shows a user (sortition.errors): raised with a text, that text
# is the message. Python's own exceptions (ValueError, TypeError, AssertionError) raised by
# these rooms are a caller's mistake in the library API, not a user's, and are not checked.
USER_ERRORS = {
    "SortitionError",
    "InputError",
    "InfeasibleError",
    "TimeLimitError",
    "LotteryCoverageError",
}
# Lists whose lines become a check item's detail or a problem's message.
PROBLEM_LISTS = {"problems", "why", "reasons", "advice", "warnings"}
# Variables that become a check item's detail.
DETAIL_NAMES = {"detail", "why", "reason"}
MARKERS = {"N_", "problem", "Message"}
# Functions whose name says they return a message, a detail, a reason or problems: what they
# return is shown.
WORDED = re.compile(r"message|detail|reason|why|problem")

# (file, the flagged expression as ast.unparse gives it) -> why it is not a user's text
ALLOWED: dict[tuple[str, str], str] = {
    (
        "sortition/audit/metrics.py",
        "f'the panel has {len(panel)} people, k is {instance.k}'",
    ): "a line of metrics.json and report.html, output files that are English in every language "
    "(byte-identical whatever --lang says)",
    (
        "sortition/audit/metrics.py",
        "'two panel members share a household'",
    ): "the same output files as above",
    (
        "sortition/web/projects.py",
        "'upload the pool and the quotas first'",
    ): "a safety net of Project.load: every page checks project.ready first, so an organiser "
    "never meets it (the page's own messages are in web.po)",
}


def has_words(text: str) -> bool:
    """Whether a literal has words once its {placeholders} are taken out (a template made only
    of placeholders and separators, such as ``verify.items.joined``'s, is not a message)."""
    return re.search(r"[A-Za-z]", re.sub(r"\{[^{}]*\}", "", text)) is not None


def plain(node: ast.expr) -> bool:
    """Whether ``node`` is English text that no catalogue can translate."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and has_words(node.value)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return plain(node.left) or plain(node.right)
    if isinstance(node, ast.IfExp):
        return plain(node.body) or plain(node.orelse)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and plain(node.func.value)
    return False


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _argument(call: ast.Call, position: int, keyword: str) -> list[ast.expr]:
    found = [k.value for k in call.keywords if k.arg == keyword]
    return found + call.args[position : position + 1]


def user_texts(tree: ast.AST) -> list[tuple[int, str, ast.expr]]:
    """(line, what, expression) of every text the code hands to a user in ``tree``."""
    found: list[tuple[int, str, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and WORDED.search(node.name):
            found += [
                (inner.lineno, f"{node.name} returns", inner.value)
                for inner in ast.walk(node)
                if isinstance(inner, ast.Return) and inner.value is not None
            ]
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in DETAIL_NAMES:
                    found.append((node.lineno, f"{target.id} =", node.value))
            continue
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name == "fail" and isinstance(node.func, ast.Attribute):
            found += [(node.lineno, ".fail(", a) for a in _argument(node, 0, "message")]
        elif name == "Problem":
            found += [(node.lineno, "Problem(", a) for a in _argument(node, 0, "message")]
        elif name == "CheckItem":
            found += [(node.lineno, "CheckItem detail", a) for a in _argument(node, 2, "detail")]
        elif name == "item_from":
            found += [(node.lineno, "item_from detail", a) for a in _argument(node, 2, "detail")]
        elif name in USER_ERRORS:
            found += [(node.lineno, f"{name}(", a) for a in node.args[:1]]
        elif (
            name in ("append", "extend", "insert")
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in PROBLEM_LISTS
        ):
            found += [(node.lineno, f"{node.func.value.id}.{name}(", a) for a in node.args[-1:]]
    return found


def templates(tree: ast.AST) -> list[tuple[int, str, ast.expr]]:
    """(line, marker, template) of every N_, problem and Message call in ``tree``."""
    return [
        (node.lineno, str(_name(node)), node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _name(node) in MARKERS and node.args
    ]


def untranslatable(source: str, file: str = "<test>") -> list[str]:
    """The places in ``source`` where a user would read English whatever their language."""
    tree = ast.parse(source)
    bad = []
    for line, what, expression in user_texts(tree):
        text = ast.unparse(expression)
        if plain(expression) and (file, text) not in ALLOWED:
            bad.append(f"{file}:{line}: {what} {text}")
    for line, marker, template in templates(tree):
        built = isinstance(template, ast.JoinedStr | ast.BinOp) or (
            isinstance(template, ast.Call) and _name(template) == "format"
        )
        if built:
            bad.append(f"{file}:{line}: {marker}() of a built text {ast.unparse(template)}")
    return bad


def sources() -> list[Path]:
    return sorted(path for room in ROOMS for path in (ROOT / room).rglob("*.py"))


def test_the_rooms_are_found() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in sources()}
    assert "sortition/invitations/allocation.py" in names
    assert {"sortition/record/reader.py", "sortition/verify/parts.py"} <= names
    assert "sortition/selection/service.py" in names


def test_every_text_a_user_reads_is_translatable() -> None:
    bad = []
    for path in sources():
        bad += untranslatable(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    assert not bad, "plain English a user would read (wrap it in N_/problem/Message):\n" + (
        "\n".join(bad)
    )


def test_every_allowed_text_is_still_there() -> None:
    """An allow-list entry whose text the code no longer has is stale."""
    present = set()
    for path in sources():
        file = path.relative_to(ROOT).as_posix()
        for _, _, expression in user_texts(ast.parse(path.read_text(encoding="utf-8"))):
            present.add((file, ast.unparse(expression)))
    assert not set(ALLOWED) - present


@pytest.mark.parametrize(
    "source",
    [
        "raise reader.fail(f\"'{where}' must be an object\")",
        "raise reader.fail('the panel lists someone twice')",
        "raise InputError([Problem('is not JSON', file=name)])",
        "raise InputError([Problem(f'k must be at least 1, got {k}')])",
        "raise InputError('k must be at least 1')",
        "raise TimeLimitError(f'no answer in {seconds} s')",
        "return CheckItem('draw', False, f'seed {seed!r}: the draw differs')",
        "return CheckItem('draw', ok, detail='re-runs LEGACY')",
        "return item_from('panel', problems, 'every member ' + count)",
        "problems.append(f'{name} is missing')",
        "why.append('needs --pseudonym-key')",
        "detail = 'all quotas met' if ok else 'a quota is not met'",
        "reason = '{} is missing'.format(name)",
        "Message(f'{count} people')",
        "problem(N_('row ' + number))",
        "def _left_out_message(m):\n    return f'--panels {m}: there is no lottery'",
        "def _reason(error):\n    return 'unknown'",
        "warnings.append('quota columns ignored')",
    ],
)
def test_the_guard_finds_plain_english(source: str) -> None:
    assert untranslatable(source)


@pytest.mark.parametrize(
    "source",
    [
        "raise reader.fail(Message(N_(\"'{path}' must be an object\"), path=where))",
        "raise InputError([problem(N_('is not JSON'), file=name)])",
        "raise InputError([Problem(reason) for reason in reasons])",
        "return CheckItem('draw', False, Message(N_('seed {seed}: differs'), seed=seed))",
        "return CheckItem('draw', ok, detail)",
        "problems.append(Message(N_('{name} is missing'), name=name))",
        "Message('{{{p0}, {p1}}}', p0=a, p1=b)",
        "detail = joined(parts, '; ')",
        "raise ValueError(f'panels must have shape (P, {n})')",
        "def _reason(error):\n    return str(error)",
        "def weights(m):\n    return f'{m} panels'",
    ],
)
def test_the_guard_lets_translatable_texts_pass(source: str) -> None:
    assert not untranslatable(source)
