"""Keyed pseudonyms (docs/privacy.md): pseudonym(id) = the first L hex digits of
HMAC-SHA256(key, UTF-8(id)), L = 16 unless two ids of the same file would share a pseudonym,
then the smallest of 24, 32, ..., 64 with none shared. The record states L."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from sortition.errors import N_, InputError, problem
from sortition.privacy.keys import PseudonymKey

METHOD = "HMAC-SHA256"
PSEUDONYM_LENGTH = 16  # hex digits (64 bits): a chance collision needs billions of ids
LENGTH_STEP = 8
FULL_LENGTH = 64


def full_pseudonym(key: PseudonymKey, identifier: str) -> str:
    """HMAC-SHA256 of the id's UTF-8 bytes under the key, as 64 lower-case hex digits."""
    return hmac.new(key.secret, identifier.encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonym(key: PseudonymKey, identifier: str, length: int = PSEUDONYM_LENGTH) -> str:
    """One id's pseudonym: the first ``length`` hex digits of ``full_pseudonym``."""
    if not 1 <= length <= FULL_LENGTH:
        raise InputError(
            [
                problem(
                    N_("a pseudonym has 1 to {most} hex digits, not {length}"),
                    most=FULL_LENGTH,
                    length=length,
                )
            ]
        )
    return full_pseudonym(key, identifier)[:length]


@dataclass(frozen=True)
class Pseudonyms:
    """The pseudonyms of a list of ids, in the same order, and the length they were cut to."""

    names: tuple[str, ...]
    length: int
    key: PseudonymKey

    def describe(self) -> dict[str, object]:
        """What a record says of them: ``{"method", "length", "key_fingerprint"}``."""
        return {"method": METHOD, "length": self.length, "key_fingerprint": self.key.fingerprint}


def pseudonymise(key: PseudonymKey, ids: Sequence[str]) -> Pseudonyms:
    """Each id's pseudonym, cut to PSEUDONYM_LENGTH hex digits, or longer when two different
    ids would otherwise share one (the collision check). Ids are expected to be unique."""
    keyed = hmac.new(key.secret, digestmod=hashlib.sha256)  # keyed once, copied per id
    full = []
    for identifier in ids:
        one = keyed.copy()
        one.update(identifier.encode("utf-8"))
        full.append(one.hexdigest())
    length = PSEUDONYM_LENGTH
    while length < FULL_LENGTH and len({name[:length] for name in full}) < len(full):
        length += LENGTH_STEP
    if len(set(full)) < len(full):  # two equal ids: the reader should have refused them
        raise InputError([problem(N_("two ids have the same pseudonym: ids must be unique"))])
    return Pseudonyms(tuple(name[:length] for name in full), length, key)
