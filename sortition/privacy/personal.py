"""The rule for ids that look personal (docs/privacy.md, "When a key is required").

Ids look personal when the id column is named email, e-mail, mail, phone, tel, mobile or name
(any case, spaces around ignored), or when some id

* contains ``@`` (an e-mail address);
* has a letter, white space, a letter (a name such as ``Ada Lovelace``; a comma or full stop
  may follow the first letter: ``Lovelace, Ada``);
* is a phone number: only digits, ``+``, spaces, dashes and brackets, at least 7 digits and at
  least one of the others (``+44 20 7946 0000``, ``(020) 7946-0000``). An id of digits alone is
  not one, nor one of letters and digits such as ``r0000001``.

Row-number ids (no id column) never look personal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sortition.errors import N_, InputError, Message, problem

PERSONAL_COLUMN_NAMES = ("email", "e-mail", "mail", "phone", "tel", "mobile", "name")
_NAME = re.compile(r"[^\W\d_][,.]?\s+[^\W\d_]")
_PHONE = re.compile(r"[0-9+\-() ]+")
_PHONE_MARKS = re.compile(r"[+\-() ]")
MIN_PHONE_DIGITS = 7


def why_personal(identifier: str) -> str | None:
    """Why this id looks personal (a few words, a ``Message``), or None when it does not."""
    if "@" in identifier:
        return Message(N_("contains '@' (an e-mail address)"))
    if _NAME.search(identifier):
        return Message(N_("has a letter, a space and a letter (a name)"))
    if (
        _PHONE.fullmatch(identifier)
        and _PHONE_MARKS.search(identifier)
        and sum(c.isdigit() for c in identifier) >= MIN_PHONE_DIGITS
    ):
        return Message(N_("is a phone number"))
    return None


@dataclass(frozen=True)
class PersonalIds:
    """Why a file's ids look personal: ``reason`` in a few words; ``index`` the 0-based position
    (in the order given) of the first id that does, None when the column's name is the reason."""

    reason: str
    index: int | None = None


def personal_ids(ids: Sequence[str], id_column: str | None) -> PersonalIds | None:
    """Why the ids of a file look personal, or None when they do not, or when there is no id
    column (row numbers). The reason never quotes an id."""
    if id_column is None:
        return None
    if id_column.strip().casefold() in PERSONAL_COLUMN_NAMES:
        return PersonalIds(Message(N_("the id column is named '{column}'"), column=id_column))
    for index, identifier in enumerate(ids):
        reason = why_personal(identifier)
        if reason is not None:
            return PersonalIds(Message(N_("the id {reason}"), reason=reason), index)
    return None


HOW_TO_PSEUDONYMISE = N_(
    "a record is made to be published, so these ids must not appear in it: create a key with "
    "'sortition new-key pseudonyms.key' and give --pseudonym-key pseudonyms.key (the record then "
    "names everyone by a keyed pseudonym; DIR/private/pseudonyms.csv holds the table), or give "
    "--ids-are-public if the ids are not personal"
)


def refuse_personal_ids(
    ids: Sequence[str],
    id_column: str | None,
    file: str,
    rows: Sequence[int] | None = None,
    *,
    row: bool = True,
) -> None:
    """InputError (exit 2) when the ids look personal (``personal_ids``), naming the file, the
    column and the row (``rows[i]``, the spreadsheet row of ``ids[i]``; not named when ``row``
    is false), and saying how to pseudonymise."""
    found = personal_ids(ids, id_column)
    if found is None:
        return
    at: int | None = None
    if found.index is None:
        at = 1
    elif row:
        at = found.index + 2 if rows is None else rows[found.index]
    raise InputError(
        [
            problem(
                N_("the ids look personal: {reason}; {how}"),
                file=file,
                row=at,
                column=id_column,
                reason=found.reason,
                how=Message(HOW_TO_PSEUDONYMISE),
            )
        ]
    )
