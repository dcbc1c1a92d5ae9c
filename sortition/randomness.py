"""The seeded stream: every random choice in sortition comes from here.

Specification (docs/randomness.md has the full text and test vectors):

* block ``j`` (``j = 0, 1, ...``) is ``SHA-256(UTF-8(seed) || j as 8-byte big-endian)``;
* the blocks, concatenated, are read as 64-bit big-endian words, four per block;
* a uniform integer in ``[0, n)`` takes the next word ``w`` and accepts it when
  ``w < 2**64 - (2**64 mod n)``, returning ``w mod n``; otherwise it takes the next word.

Nothing here depends on a library random number generator, so the stream is the same in every
version of Python and can be re-implemented in any language.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import MutableSequence, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")

_WORD_RANGE = 1 << 64


class SeededStream:
    """A deterministic stream of uniform random integers derived from one seed string."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self._prefix = seed.encode("utf-8")
        self._counter = 0
        self._words: list[int] = []
        self.words_used = 0

    def _refill(self) -> None:
        block = hashlib.sha256(self._prefix + self._counter.to_bytes(8, "big")).digest()
        self._counter += 1
        # Reversed so that pop() returns the words in stream order.
        self._words = [int.from_bytes(block[i : i + 8], "big") for i in (24, 16, 8, 0)]

    def next_word(self) -> int:
        """The next 64-bit word of the stream."""
        if not self._words:
            self._refill()
        self.words_used += 1
        return self._words.pop()

    def below(self, n: int) -> int:
        """A uniform integer in ``[0, n)`` by rejection sampling on 64-bit words."""
        if n <= 0:
            raise ValueError(f"below() needs a positive bound, got {n}")
        if n > _WORD_RANGE:
            raise ValueError("below() supports bounds up to 2**64")
        limit = _WORD_RANGE - (_WORD_RANGE % n)
        while True:
            word = self.next_word()
            if word < limit:
                return word % n

    def choice(self, items: Sequence[T]) -> T:
        """One element of ``items``, uniformly."""
        return items[self.below(len(items))]

    def shuffle(self, items: MutableSequence[T]) -> None:
        """Shuffle in place (Fisher-Yates, from the last position down to 1)."""
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]

    def sample(self, items: Sequence[T], count: int) -> list[T]:
        """``count`` distinct elements of ``items``: the first ``count`` of a partial Fisher-Yates
        shuffle that swaps position ``i`` (from 0 up) with a uniform position in ``[i, len)``."""
        pool = list(items)
        if not 0 <= count <= len(pool):
            raise ValueError(f"cannot sample {count} of {len(pool)} items")
        for i in range(count):
            j = i + self.below(len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:count]


def fresh_seed() -> str:
    """A new seed from the operating system, for draws where no public seed was given."""
    return secrets.token_hex(16)


def numpy_generator(seed: str, purpose: str) -> np.random.Generator:
    """A numpy generator keyed by the seed stream, for synthetic data only (never for a draw).

    Its 128-bit key is the first two words of the stream of ``purpose + ':' + seed``; numpy's
    PCG64 bit stream is stable, its distribution methods may change between numpy versions.
    """
    stream = SeededStream(f"{purpose}:{seed}")
    key = (stream.next_word() << 64) | stream.next_word()
    return np.random.Generator(np.random.PCG64(key))
