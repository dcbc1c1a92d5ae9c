"""The seeded stream: fixed test vectors, an independent re-implementation, uniformity."""

from __future__ import annotations

import itertools
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from sortition.randomness import SeededStream, fresh_seed, numpy_generator
from tests.helpers import doc_below, doc_stream

# Test vectors (also in docs/randomness.md).
VECTORS_WORDS = {
    "sortition": [
        8713640282359674107,
        36634740162461116,
        8021587328583214662,
        6924547075431748665,
        2275302641189330001,
    ],
}
VECTORS_BELOW = {
    ("sortition", 6): [5, 4, 0, 3, 3, 2, 0, 3, 2, 1],
    ("dice:3,6,1", 1000): [764, 21, 64, 205, 76],
}
VECTOR_SHUFFLE = ("sortition", "abcdefghij", "beicfdagjh")


def independent_words(seed: str, count: int) -> list[int]:
    """The first words of the stream, from the page's second implementation (tests/helpers.py)."""
    return list(itertools.islice(doc_stream(seed), count))


def independent_below(seed: str, n: int, count: int) -> list[int]:
    words = doc_stream(seed)
    return [doc_below(words, n) for _ in range(count)]


def test_word_vectors() -> None:
    for seed, expected in VECTORS_WORDS.items():
        stream = SeededStream(seed)
        assert [stream.next_word() for _ in expected] == expected
        assert independent_words(seed, len(expected)) == expected


def test_below_vectors() -> None:
    for (seed, n), expected in VECTORS_BELOW.items():
        stream = SeededStream(seed)
        assert [stream.below(n) for _ in expected] == expected
        assert independent_below(seed, n, len(expected)) == expected


def test_shuffle_vector() -> None:
    seed, items, expected = VECTOR_SHUFFLE
    letters = list(items)
    SeededStream(seed).shuffle(letters)
    assert "".join(letters) == expected


@given(st.text(max_size=30), st.integers(min_value=1, max_value=2**64))
def test_below_matches_independent_implementation(seed: str, n: int) -> None:
    stream = SeededStream(seed)
    assert [stream.below(n) for _ in range(5)] == independent_below(seed, n, 5)


def test_rejection_happens_for_awkward_bounds() -> None:
    # n just above 2**63: almost half of all words are rejected, and results stay in range.
    n = 2**63 + 1
    stream = SeededStream("reject")
    values = [stream.below(n) for _ in range(200)]
    assert all(0 <= v < n for v in values)
    assert stream.words_used > 200


def test_below_is_roughly_uniform() -> None:
    stream = SeededStream("uniform")
    counts = Counter(stream.below(7) for _ in range(14_000))
    assert set(counts) == set(range(7))
    assert all(1_800 < c < 2_200 for c in counts.values())


@given(st.lists(st.integers(), max_size=20), st.text(max_size=10))
def test_shuffle_and_sample_are_permutations(items: list[int], seed: str) -> None:
    shuffled = list(items)
    SeededStream(seed).shuffle(shuffled)
    assert sorted(shuffled) == sorted(items)
    sample = SeededStream(seed).sample(items, len(items) // 2)
    assert len(sample) == len(items) // 2
    assert Counter(sample) <= Counter(items)


def test_fresh_seeds_differ() -> None:
    assert fresh_seed() != fresh_seed()
    assert len(fresh_seed()) == 32


def test_numpy_generator_is_keyed_by_seed_and_purpose() -> None:
    a = numpy_generator("s", "generate").integers(0, 10**9, 5)
    b = numpy_generator("s", "generate").integers(0, 10**9, 5)
    c = numpy_generator("s", "other").integers(0, 10**9, 5)
    assert list(a) == list(b)
    assert list(a) != list(c)


# A second implementation of the whole path from seed to choices, written from docs/randomness.md
# (sections 1-3 and 5) without importing sortition (doc_stream and doc_below are in
# tests/helpers.py, which test_legacy_doc.py uses too): it must reproduce the documented vectors.
def test_second_implementation_reproduces_the_documented_vectors() -> None:
    words = doc_stream("sortition")
    assert [doc_below(words, 6) for _ in range(10)] == [5, 4, 0, 3, 3, 2, 0, 3, 2, 1]
    words = doc_stream("dice:3,6,1")
    assert [doc_below(words, 1000) for _ in range(5)] == [764, 21, 64, 205, 76]
    letters = list("abcdefghij")
    words = doc_stream("sortition")
    for i in range(len(letters) - 1, 0, -1):
        j = doc_below(words, i + 1)
        letters[i], letters[j] = letters[j], letters[i]
    assert "".join(letters) == "beicfdagjh"
    # Section 5: seed -> chosen panel index from weights.
    for weights, expected in (([0.1, 0.9], 0), ([0.05, 0.95], 1)):
        tickets = [int(w * 2**48) for w in weights]  # floor: w is non-negative
        r = doc_below(doc_stream("sortition"), sum(tickets))
        running, index = 0, None
        for position, count in enumerate(tickets):
            running += count
            if r < running:
                index = position
                break
        assert index == expected
