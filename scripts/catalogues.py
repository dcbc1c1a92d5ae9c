"""The messages of the command line's catalogues, as scripts/messages writes them to
sortition/locale/<domain>.pot and tests/test_cli_i18n.py checks their translations.

- ``cli``: the ``_``, ``N_`` and ``ngettext`` calls of the command line (cli/), and every help
  text of its command tree (docstrings and ``help=``, English in the code: the commands show
  them translated, sortition_cli.i18n), found by walking the tree, so that a command or option
  added anywhere is in the catalogue without marking.
- ``library``: the library's messages an entry layer shows translated: error headings and
  problem templates marked with ``sortition.errors.N_`` (sortition/, the page excepted).
- ``click``: click's own messages (its ``_`` and ``ngettext`` calls), as the installed click
  has them; only the ones an organiser meets need a translation.

Usage: ``python scripts/catalogues.py`` writes the three .pot files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

REPO = Path(__file__).resolve().parents[1]
LOCALE = REPO / "sortition" / "locale"
DOMAINS = ("cli", "library", "click")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}

Message = str | tuple[str, str]


def _extract(folder: Path, method_map: list[tuple[str, str]], keywords: dict) -> list[Message]:
    found: list[Message] = []
    for _file, _line, message, _comments, _context in extract_from_dir(
        folder, method_map, keywords=keywords
    ):
        found.append(message if isinstance(message, str) else (message[0], message[1]))
    return found


def messages(domain: str) -> list[Message]:
    """The messages of ``domain``, each once, in a stable order."""
    if domain == "cli":
        from sortition_cli.i18n import help_messages
        from sortition_cli.main import cli

        found = _extract(REPO / "cli", [("**.py", "python")], KEYWORDS) + help_messages(cli)
    elif domain == "library":
        found = _extract(
            REPO / "sortition",
            [("web/**", "ignore"), ("**.py", "python")],
            {"N_": None},
        )
    elif domain == "click":
        import click

        folder = Path(click.__file__).parent
        found = _extract(folder, [("**.py", "python")], {"_": None, "ngettext": (1, 2)})
        found.append("required")  # an option's "required" mark: gettext of a variable
        # the usage line's placeholders, the type names click fills into its messages and the
        # placeholders of the help's option lines
        # (sortition_cli.i18n translates them: click never passes them through gettext)
        from sortition_cli.i18n import METAVARS, TYPE_NAMES, USAGE_PLACEHOLDERS

        found += [*USAGE_PLACEHOLDERS, *TYPE_NAMES, *METAVARS]
    else:
        raise ValueError(domain)
    return sorted(dict.fromkeys(found), key=lambda m: m if isinstance(m, str) else m[0])


def write_pot(domain: str) -> Path:
    """sortition/locale/<domain>.pot: the domain's messages, without locations."""
    catalog = Catalog(project="sortition", domain=domain)
    for message in messages(domain):
        catalog.add(message)
    path = LOCALE / f"{domain}.pot"
    with path.open("wb") as out:
        write_po(out, catalog, width=100, omit_header=True, sort_output=True, no_location=True)
    return path


if __name__ == "__main__":
    for name in sys.argv[1:] or DOMAINS:
        print(write_pot(name))
