"""No English-only message left in the library: an AST walk over sortition/ that fails when a
problem, an error or a message a user reads is written as a plain string literal or f-string
instead of a template marked with ``sortition.errors.N_`` (``problem(N_("..."), name=value)``,
``Message(N_("..."), name=value)``): such a text would reach a Hebrew user in English.

What it checks, in every module outside ``UNGUARDED_ROOMS``:

- ``Problem(...)``, ``SortitionError`` and its kind (``InputError(...)``, ``TimeLimitError(...)``,
  ...) and any other raised exception: their first argument (or each element of a list of
  problems) must not be a literal with words in it;
- ``problem(...)`` and ``Message(...)``: their template must be marked ``N_(...)`` when it has
  words, and no value given to a placeholder may be a literal with words (a worded part is a
  nested ``Message``);
- ``N_(...)`` itself takes a plain literal, never an f-string (the catalogue holds the template).

A placeholder (``{name}``) is not a word: ``problem("{breach}", breach=line)`` passes.
Programming errors (``ValueError`` and the like: a caller's bug, never an organiser's input)
and the texts listed in ``ALLOWED`` with their reason are left in English.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIBRARY = REPO / "sortition"

# Rooms left out of the walk (none: the record readers, verify and selection have their own,
# stricter guard too, tests/test_message_guard_records.py).
UNGUARDED_ROOMS: frozenset[str] = frozenset()

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

# Message makers whose template must be marked N_ when it has words.
TEMPLATED = frozenset({"problem", "problem_of", "Message"})

# (file under sortition/, the English text's words as the walk shows them) -> why it stays English
ALLOWED: dict[tuple[str, str], str] = {
    (
        "engine/feasibility.py",
        "CP-SAT could not decide feasibility within the time limit",
    ): "an internal signal: sortition/selection/feasibility.py catches the TimeoutError and "
    "says it in a translated message of its own",
    (
        "engine/feasibility.py",
        "CP-SAT found no relaxation within the time limit",
    ): "an internal signal, caught like the one above",
    (
        "verify/types.py",
        "{{'withheld': {digits}, 'people'}}",
    ): "a JSON shape: its words are the record's keys, the same in every language",
    (
        "web/projects.py",
        "upload the pool and the quotas first",
    ): "a safety net of Project.load: every page checks project.ready before it loads, so an "
    "organiser never meets it (the page's own messages are in web.po)",
}

PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _words(node: ast.expr) -> str | None:
    """The English text of a literal, an f-string, a concatenation or ``"...".format(...)``, if
    it has words outside its placeholders."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    elif isinstance(node, ast.BinOp):
        return _words(node.left) or _words(node.right)
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        return _words(node.func.value)
    else:
        return None
    return text if re.search("[A-Za-z]{2}", PLACEHOLDER.sub("", text)) else None


def _name(call: ast.Call) -> str:
    return getattr(call.func, "attr", getattr(call.func, "id", ""))


def _parts(node: ast.expr) -> list[ast.expr]:
    """A list of problems' elements (or a comprehension's element), else the node itself."""
    if isinstance(node, ast.List | ast.Tuple):
        return list(node.elts)
    if isinstance(node, ast.ListComp):
        return [node.elt]
    return [node]


def _is_n_(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and _name(node) == "N_"


def _worded_names(tree: ast.AST) -> dict[int, dict[str, str]]:
    """For each function (by the id of its node; the module as 0), the local names assigned a
    literal or f-string with words: ``message = f"..."`` then ``Problem(message)``."""
    found: dict[int, dict[str, str]] = {}
    for scope in ast.walk(tree):
        if not isinstance(scope, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        names = found.setdefault(0 if isinstance(scope, ast.Module) else id(scope), {})
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                text = _words(node.value)
                if isinstance(target, ast.Name) and text:
                    names[target.id] = text
    return found


def offenders_in(source: str) -> list[tuple[int, str, str]]:
    """(line, what, text) for each English-only message of a module's source."""
    tree = ast.parse(source)
    worded = _worded_names(tree)
    scope_of: dict[int, int] = {}
    for scope in ast.walk(tree):
        if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(scope):
                scope_of.setdefault(id(node), id(scope))  # the outermost function
    raised = {
        id(node.exc)
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
    }
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name == "N_":
            if node.args and isinstance(node.args[0], ast.JoinedStr):
                found.append((node.lineno, "an f-string in N_", _words(node.args[0]) or ""))
            continue
        if name in TEMPLATED:
            if node.args and not _is_n_(node.args[0]):
                text = _words(node.args[0])
                if text:
                    found.append((node.lineno, f"{name}() without N_", text))
            for keyword in node.keywords:
                if keyword.arg in ("file", "row", "column", "path", "field"):
                    continue  # a place, or a record's field path ('inputs.pool.pseudonyms')
                text = _words(keyword.value)
                if text:
                    found.append((node.lineno, f"{name}(..., {keyword.arg}=) English", text))
            continue
        checked = (
            name == "Problem"
            or name.endswith("Error")
            or (id(node) in raised and name not in PROGRAMMING_ERRORS)
        )
        if not checked or name in PROGRAMMING_ERRORS:
            continue
        arguments = list(node.args[:1]) + [k.value for k in node.keywords if k.arg == "advice"]
        names = worded.get(scope_of.get(id(node), 0), {})
        for argument in arguments:
            for part in _parts(argument):
                text = _words(part)
                if text is None and isinstance(part, ast.Name):
                    text = names.get(part.id)
                if text:
                    found.append((node.lineno, f"{name}() with a plain text", text))
    return found


def guarded_modules() -> list[Path]:
    return [
        path
        for path in sorted(LIBRARY.rglob("*.py"))
        if path.relative_to(LIBRARY).parts[0] not in UNGUARDED_ROOMS
    ]


def test_every_user_facing_message_of_the_library_is_translatable() -> None:
    offenders = []
    used = set()
    for path in guarded_modules():
        relative = path.relative_to(LIBRARY).as_posix()
        for line, what, text in offenders_in(path.read_text(encoding="utf-8")):
            if (relative, text) in ALLOWED:
                used.add((relative, text))
                continue
            offenders.append(f"sortition/{relative}:{line}: {what}: {text!r}")
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
