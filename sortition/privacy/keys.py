"""Pseudonym keys: the raw bytes of a file (at least MIN_KEY_BYTES), never parsed.

``new_key`` creates one from fresh randomness (the operating system's, not the seeded stream:
a key must not be derivable from anything public), readable by its owner only (0600), and
refuses to replace a file. ``read_key`` never creates one: a mistyped path is an error, not a
new key that would give everyone new pseudonyms.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sortition.errors import N_, InputError, Message, problem

MIN_KEY_BYTES = 16  # shorter keys are refused: the pseudonyms could be searched
NEW_KEY_BYTES = 32  # what new_key writes
FINGERPRINT_PREFIX = b"sortition pseudonym key fingerprint\x00"
FINGERPRINT_LENGTH = 16  # hex digits of the fingerprint the record states
HOW_TO_CREATE = N_(
    "create one with 'sortition new-key FILE' and keep it with the pool, not with the record"
)


@dataclass(frozen=True)
class PseudonymKey:
    """A pseudonym key: ``secret`` is the key file's bytes; ``name`` the file's name (not its
    path). The secret never appears in a repr."""

    secret: bytes = field(repr=False)
    name: str = "key"

    @property
    def fingerprint(self) -> str:
        """What the record states of the key: the first 16 hex digits of SHA-256 of
        FINGERPRINT_PREFIX and the key. It tells two keys apart and reveals nothing of either."""
        digest = hashlib.sha256(FINGERPRINT_PREFIX + self.secret).hexdigest()
        return digest[:FINGERPRINT_LENGTH]


def read_key(path: str | os.PathLike[str]) -> PseudonymKey:
    """The key in ``path`` (InputError, exit 2, when the file is missing, a folder or shorter
    than MIN_KEY_BYTES)."""
    path = Path(path)
    if not path.exists():
        raise InputError(
            [
                problem(
                    N_("no such pseudonym key file: {how}"),
                    file=path.name,
                    how=Message(HOW_TO_CREATE),
                )
            ]
        )
    if not path.is_file():
        raise InputError([problem(N_("is not a file (a pseudonym key file)"), file=path.name)])
    secret = path.read_bytes()
    if len(secret) < MIN_KEY_BYTES:
        raise InputError(
            [
                problem(
                    N_("holds {count} bytes; a pseudonym key needs at least {least} ({how})"),
                    file=path.name,
                    count=len(secret),
                    least=MIN_KEY_BYTES,
                    how=Message(HOW_TO_CREATE),
                )
            ]
        )
    return PseudonymKey(secret, path.name)


def new_key(path: str | os.PathLike[str]) -> PseudonymKey:
    """Write NEW_KEY_BYTES fresh random bytes to ``path`` (created, permissions 0600) and return
    the key; a file or folder already there is refused (InputError), so no key is ever lost."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise InputError(
            [
                problem(
                    N_(
                        "already exists: a new key would change every pseudonym, so it is never "
                        "replaced (choose another file name)"
                    ),
                    file=path.name,
                )
            ]
        )
    if not path.parent.is_dir():
        raise InputError(
            [problem(N_("folder {folder} does not exist"), file=path.name, folder=path.parent)]
        )
    secret = secrets.token_bytes(NEW_KEY_BYTES)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secret)
    os.chmod(path, 0o600)  # whatever the umask
    return PseudonymKey(secret, path.name)
