"""The one rule the message tests share for "is this code English words a user would read":
tests/test_message_guard.py (the library) and tests/test_cli_i18n.py (what the commands print)
both ask ``words``.

A text has words when its literal parts, once its ``{placeholders}`` are taken out, hold two
letters in a row: ``"{feature} {value}"`` and ``"{problems}; {problem}"`` are templates of
separators (the words are in their values), ``"k must be at least 1"`` is English."""

from __future__ import annotations

import ast
import re

PLACEHOLDER = re.compile(r"\{[^{}]*\}")
WORD = re.compile("[A-Za-z]{2}")


def has_words(text: str) -> bool:
    """Whether a literal has words once its {placeholders} are taken out."""
    return WORD.search(PLACEHOLDER.sub("", text)) is not None


def words(node: ast.expr) -> str | None:
    """The English text of a string literal, an f-string (its literal parts), a concatenation,
    either branch of ``a if c else b`` or ``"...".format(...)``, if it has words; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    elif isinstance(node, ast.BinOp):
        return words(node.left) or words(node.right)
    elif isinstance(node, ast.IfExp):
        return words(node.body) or words(node.orelse)
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        return words(node.func.value)
    else:
        return None
    return text if has_words(text) else None
