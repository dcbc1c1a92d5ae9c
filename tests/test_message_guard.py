"""No English-only message left in the library: an AST walk over sortition/ that fails when a
text an organiser reads is written as a plain string literal or f-string instead of a template
marked with ``sortition.errors.N_`` (``problem(N_("..."), name=value)``,
``Message(N_("..."), name=value)``, or a variable holding one): such a text would reach a Hebrew
user in English.

What it checks, in every module of sortition/ (each is parsed once):

- templates: ``problem(...)``, ``problem_of(...)`` and ``Message(...)`` take a template marked
  ``N_(...)`` when it has words, and no value given to a placeholder may be a literal with words
  (a worded part is a nested ``Message``; a place, ``file=``, ``row=``, ... is not a message);
  ``N_``, ``problem``, ``problem_of`` and ``Message`` never take a text built in code (an
  f-string, a ``+`` or a ``.format()``): the catalogue knows only the literal;
- errors: ``Problem(...)``, ``SortitionError`` and its kinds (``InputError``,
  ``TimeLimitError``, ...) and any other raised exception take no plain text as their message or
  ``advice=`` (nor as an element of a list of problems, nor through a local name assigned a worded
  literal: ``message = f"..."`` then ``Problem(message)``);
- what reaches a user otherwise: ``RecordReader.fail``'s message, a check item's detail
  (``CheckItem``, ``item_from``, a variable named ``detail``/``why``/``reason``), a line added to
  a list of problems, reasons, advice or warnings, and what a function named for a message, a
  detail, a reason or problems returns.

A plain text is one with words (tests/message_words.py: two letters outside the placeholders,
``problem("{breach}", breach=line)`` passes) or, where a user reads it, an f-string even without
words: it flattens the ``Message`` values it holds into English. Programming errors
(``ValueError`` and the like: a caller's bug, never an organiser's input) and the texts in
``ALLOWED``, each with its reason, are left in English.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.message_words import words

REPO = Path(__file__).resolve().parents[1]
LIBRARY = REPO / "sortition"

# Exceptions that report a bug in the calling code, not a problem with an organiser's input: the
# CLI shows them as "internal error" (exit 70) and they stay English.
PROGRAMMING_ERRORS = frozenset(
    {
        "ArithmeticError",
        "AssertionError",
        "AttributeError",
        "IndexError",
        "KeyError",
        "NotImplementedError",
        "RuntimeError",
        "TypeError",
        "ValueError",
    }
)
# The errors the command line shows a user (sortition.errors): raised with a text, that text is
# the message (any other name ending in Error, or anything else raised, is checked too).
USER_ERRORS = frozenset(
    {"SortitionError", "InputError", "InfeasibleError", "TimeLimitError", "LotteryCoverageError"}
)
# Message makers whose template must be marked N_ when it has words (an Advice is a Message).
TEMPLATED = frozenset({"problem", "problem_of", "Message", "Advice"})
# Calls whose first argument is a template: never a text built in code.
MARKERS = TEMPLATED | {"N_"}
# A template's keywords that name a place or a record's field path ('inputs.pool.pseudonyms').
PLACES = frozenset({"file", "row", "column", "path", "field"})
# Lists whose lines become a check item's detail or a problem's message.
PROBLEM_LISTS = frozenset({"problems", "why", "reasons", "advice", "warnings"})
# Variables that become a check item's detail.
DETAIL_NAMES = frozenset({"detail", "why", "reason"})
# Functions whose name says they return a message, a detail, a reason or problems.
WORDED = re.compile(r"message|detail|reason|why|problem")

# (file under sortition/, the flagged expression as ast.unparse gives it) -> why it stays English
ALLOWED: dict[tuple[str, str], str] = {
    (
        "engine/feasibility.py",
        "'CP-SAT could not decide feasibility within the time limit'",
    ): "an internal signal: sortition/selection/feasibility.py catches the TimeoutError and "
    "says it in a translated message of its own",
    (
        "engine/feasibility.py",
        "'CP-SAT found no relaxation within the time limit'",
    ): "an internal signal, caught like the one above",
    (
        "verify/types.py",
        "\"{{'withheld': {digits}, 'people'}}\"",
    ): "a JSON shape: its words are the record's keys, the same in every language",
    (
        "web/projects.py",
        "'upload the pool and the quotas first'",
    ): "a safety net of Project.load: every page checks project.ready before it loads, so an "
    "organiser never meets it (the page's own messages are in web.po)",
    (
        "audit/metrics.py",
        "f'the panel has {len(panel)} people, k is {instance.k}'",
    ): "a line of metrics.json and report.html, output files that are English in every language "
    "(byte-identical whatever --lang says)",
    (
        "audit/metrics.py",
        "'two panel members share a household'",
    ): "the same output files as above",
}


def _name(call: ast.Call) -> str:
    return getattr(call.func, "attr", getattr(call.func, "id", ""))


def _built(node: ast.expr) -> bool:
    """A text put together in code: an f-string, a ``+`` or a ``.format()``."""
    return isinstance(node, ast.JoinedStr | ast.BinOp) or (
        isinstance(node, ast.Call) and _name(node) == "format"
    )


def _has_fstring(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _has_fstring(node.left) or _has_fstring(node.right)
    if isinstance(node, ast.IfExp):
        return _has_fstring(node.body) or _has_fstring(node.orelse)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and _has_fstring(node.func.value)
    return False


def plain(node: ast.expr) -> bool:
    """Whether a text a user reads is English no catalogue can translate: it has words, or it is
    an f-string (which turns the ``Message`` values it holds into their English)."""
    return words(node) is not None or _has_fstring(node)


def _parts(node: ast.expr) -> list[ast.expr]:
    """A list of problems' elements (or a comprehension's element), else the node itself."""
    if isinstance(node, ast.List | ast.Tuple):
        return list(node.elts)
    if isinstance(node, ast.ListComp):
        return [node.elt]
    return [node]


def _argument(call: ast.Call, position: int, keyword: str) -> list[ast.expr]:
    """The argument at ``position`` or given as ``keyword``."""
    found = [k.value for k in call.keywords if k.arg == keyword]
    return found + call.args[position : position + 1]


def _worded_names(tree: ast.AST) -> tuple[dict[int, dict[str, str]], dict[int, int]]:
    """For each function (by the id of its node; the module as 0), the local names assigned a
    literal or f-string with words; and the outermost function of every node."""
    found: dict[int, dict[str, str]] = {}
    scope_of: dict[int, int] = {}
    for scope in ast.walk(tree):
        if not isinstance(scope, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        key = 0 if isinstance(scope, ast.Module) else id(scope)
        names = found.setdefault(key, {})
        for node in ast.walk(scope):
            if key:
                scope_of.setdefault(id(node), key)
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                text = words(node.value)
                if isinstance(target, ast.Name) and text:
                    names[target.id] = text
    return found, scope_of


def _template_findings(call: ast.Call, name: str) -> list[tuple[str, ast.expr]]:
    found: list[tuple[str, ast.expr]] = []
    template = call.args[0] if call.args else None
    if template is not None and _built(template):
        found.append((f"{name}() of a built text", template))
    elif template is not None and name in TEMPLATED and words(template):  # not N_(...)
        found.append((f"{name}() without N_", template))
    if name in TEMPLATED:
        for keyword in call.keywords:
            if keyword.arg not in PLACES and words(keyword.value):
                found.append((f"{name}(..., {keyword.arg}=) English", keyword.value))
    return found


def offenders_in(source: str) -> list[tuple[int, str, str]]:
    """(line, what, the expression as ast.unparse gives it) for each English-only text of a
    module's source, each place once."""
    tree = ast.parse(source)
    worded, scope_of = _worded_names(tree)
    raised = {
        id(node.exc)
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
    }
    # (line, what, expression, also a local name bound to a worded literal)
    shown: list[tuple[int, str, ast.expr, bool]] = []
    found: list[tuple[int, str, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and WORDED.search(node.name):
            shown += [
                (inner.lineno, f"{node.name} returns", inner.value, False)
                for inner in ast.walk(node)
                if isinstance(inner, ast.Return) and inner.value is not None
            ]
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in DETAIL_NAMES:
                    shown.append((node.lineno, f"{target.id} =", node.value, False))
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name in MARKERS:
            found += [(node.lineno, what, e) for what, e in _template_findings(node, name)]
            continue
        if name == "fail" and isinstance(node.func, ast.Attribute):
            shown += [(node.lineno, ".fail()", a, True) for a in _argument(node, 0, "message")]
        elif name in ("CheckItem", "item_from"):
            shown += [
                (node.lineno, f"{name} detail", a, False) for a in _argument(node, 2, "detail")
            ]
        elif (
            name in ("append", "extend", "insert")
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in PROBLEM_LISTS
        ):
            what = f"{node.func.value.id}.{name}()"
            shown += [(node.lineno, what, a, False) for a in node.args[-1:]]
        elif name not in PROGRAMMING_ERRORS and (
            name == "Problem" or name.endswith("Error") or name in USER_ERRORS or id(node) in raised
        ):
            what = f"{name}() with a plain text"
            arguments = _argument(node, 0, "message") + [
                k.value for k in node.keywords if k.arg == "advice"
            ]
            for argument in arguments:
                shown += [(node.lineno, what, part, True) for part in _parts(argument)]
    for line, what, expression, through_names in shown:
        names = worded.get(scope_of.get(id(expression), 0), {})
        if plain(expression) or (
            through_names and isinstance(expression, ast.Name) and expression.id in names
        ):
            found.append((line, what, expression))
    unique: dict[tuple[int, str], str] = {}
    for line, what, expression in found:
        unique.setdefault((line, ast.unparse(expression)), what)
    return [(line, what, text) for (line, text), what in unique.items()]


def guarded_modules() -> list[Path]:
    return sorted(LIBRARY.rglob("*.py"))


def test_the_rooms_are_found() -> None:
    names = {path.relative_to(LIBRARY).as_posix() for path in guarded_modules()}
    assert "invitations/allocation.py" in names
    assert {"record/reader.py", "verify/parts.py"} <= names
    assert "selection/service.py" in names
    assert "web/projects.py" in names and "engine/feasibility.py" in names


def test_every_user_facing_message_of_the_library_is_translatable() -> None:
    offenders = []
    used = set()
    for path in guarded_modules():
        relative = path.relative_to(LIBRARY).as_posix()
        for line, what, text in offenders_in(path.read_text(encoding="utf-8")):
            if (relative, text) in ALLOWED:
                used.add((relative, text))
                continue
            offenders.append(f"sortition/{relative}:{line}: {what}: {text}")
    assert not offenders, (
        "mark these with sortition.errors.N_ (problem(N_('... {name} ...'), name=value) or "
        "Message(...)), or add them to ALLOWED with a reason:\n" + "\n".join(offenders)
    )
    assert used == set(ALLOWED), (
        f"ALLOWED names texts the code no longer has: {set(ALLOWED) - used}"
    )


def test_the_guard_catches_each_kind_of_english_message() -> None:
    """The walk itself: each form an English-only message takes is caught, the marked ones and
    the programming errors are not."""
    caught = offenders_in(
        "raise InputError([Problem(f'weight {w!r} is not a number')])\n"
        "raise InputError('--rounds must be at least 1')\n"
        "raise TimeLimitError(f'the seating took more than {s} s')\n"
        "raise NoFeasiblePanel('no feasible panel satisfies the quotas')\n"
        "raise InfeasibleError([], advice=['relax the quotas'])\n"
        "problem('has no rows', file=name)\n"
        "Message(N_('{what} must be an integer'), what='the pool size n')\n"
        "N_(f'round {r}')\n"
        "Problem('two ids ' + 'share a pseudonym')\n"
        "def f(x):\n"
        "    message = f'the ids look personal: {x}'\n"
        "    raise InputError([Problem(message, 'a.csv')])\n"
    )
    assert sorted(line for line, _what, _text in caught) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 12]
    assert not offenders_in(
        "raise InputError([problem(N_('weight {weight} is not a number'), weight=w)])\n"
        "raise ValueError(f'below() needs a positive bound, got {bound}')\n"
        "problem('{breach}', breach=line)\n"
        "Message('{problems}; {problem}', problems=a, problem=b)\n"
        "problem(N_('--fixed: {count} people'), file='a.csv', count=f'{n:,}')\n"
        "raise InputError([Problem(message)])\n"
    )


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
        "detail = f'{a}; {b}'",
        "raise reader.fail(message=f'{where}')",
        # sortition/io/pool.py at 11f3e1d: neither of the two guards before saw through the "if"
        "message = 'is empty' if t == '' else f'value {t!r} has no quota row'\n"
        "problems.append(Problem(message, name))",
    ],
)
def test_the_guard_finds_plain_english(source: str) -> None:
    assert offenders_in(source)


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
    assert not offenders_in(source)


def test_the_words_rule() -> None:
    """tests/message_words.py, shared with tests/test_cli_i18n.py: two letters outside the
    placeholders, in any literal part."""
    cases = {
        "'k must be at least 1'": "k must be at least 1",
        "'{feature} {value}: {count}'": None,
        "'{{{p0}, {p1}}}'": None,
        "'k'": None,
        "f'{count:,} people'": " people",
        "f'{a}; {b}'": None,
        "x + ' is missing'": " is missing",
        "'{} is missing'.format(name)": "{} is missing",
        "_('wrote:').format(x)": None,
        "a if ok else 'not met'": "not met",
        "name": None,
    }
    for source, expected in cases.items():
        assert words(ast.parse(source, mode="eval").body) == expected, source
