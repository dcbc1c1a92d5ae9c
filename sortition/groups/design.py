"""The affine-plane seating in which two people meet at most once (docs/groups.md).

With ``T`` tables, ``T = p**n`` a prime power, and at most ``T`` people a table, lay the people
out on positions ``(i, j)``, ``i`` a row below the table size and ``j`` an element of the field
GF(T). In round ``r`` the person at ``(i, j)`` sits at table ``j + r*i`` (field arithmetic, the
round and the row read as field elements). Two people in the same row never meet; two in rows
``i != i'`` meet in the one round ``r = (j' - j) / (i - i')``, so in at most one. Up to ``T``
rounds exist. Positions a full grid does not need (the holes, fewer than ``T``) are the last ones
of the last row, so every table of every round misses at most one person: table sizes differ by
at most one.

Field elements are the integers ``0 .. T-1`` read as base-``p`` digit vectors (polynomial
coefficients, lowest first); multiplication is modulo the first monic irreducible polynomial of
degree ``n`` in the order of its coefficient digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product


def prime_power(q: int) -> tuple[int, int] | None:
    """``(p, n)`` with ``q = p**n`` and ``p`` prime, or None.

    >>> prime_power(25), prime_power(125), prime_power(12), prime_power(1)
    ((5, 2), (5, 3), None, None)
    """
    if q < 2:
        return None
    p = next(d for d in range(2, q + 1) if q % d == 0)
    n, rest = 0, q
    while rest % p == 0:
        rest //= p
        n += 1
    return (p, n) if rest == 1 else None


def _poly_mod(a: list[int], m: list[int], p: int) -> list[int]:
    """``a`` modulo the monic ``m`` over GF(p) (coefficients lowest first)."""
    a = list(a)
    deg = len(m) - 1
    for top in range(len(a) - 1, deg - 1, -1):
        c = a[top] % p
        if c:
            for k in range(deg + 1):
                a[top - deg + k] = (a[top - deg + k] - c * m[k]) % p
    return [x % p for x in a[:deg]] + [0] * max(0, deg - len(a))


def _irreducible(p: int, n: int) -> list[int]:
    """The first monic irreducible polynomial of degree ``n`` over GF(p) (lowest first)."""
    if n == 1:
        return [0, 1]
    for low in product(range(p), repeat=n):
        m = [*reversed(low), 1]
        if m[0] == 0:
            continue
        if not any(_divides(d, m, p) for d in range(1, n // 2 + 1)):
            return m
    raise AssertionError("an irreducible polynomial exists for every degree")  # pragma: no cover


def _divides(degree: int, m: list[int], p: int) -> bool:
    """Whether some monic polynomial of ``degree`` divides ``m`` over GF(p)."""
    for low in product(range(p), repeat=degree):
        if not any(_poly_mod(m, [*reversed(low), 1], p)):
            return True
    return False


@dataclass(frozen=True)
class Field:
    """GF(p**n) on the integers ``0 .. p**n - 1``."""

    p: int
    n: int
    modulus: tuple[int, ...]

    @staticmethod
    def of_order(q: int) -> Field:
        found = prime_power(q)
        if found is None:
            raise ValueError(f"{q} is not a prime power")
        p, n = found
        return Field(p, n, tuple(_irreducible(p, n)))

    def digits(self, a: int) -> list[int]:
        out = []
        for _ in range(self.n):
            a, d = divmod(a, self.p)
            out.append(d)
        return out

    def number(self, digits: list[int]) -> int:
        return sum(d * self.p**k for k, d in enumerate(digits))

    def add(self, a: int, b: int) -> int:
        return self.number(
            [(x + y) % self.p for x, y in zip(self.digits(a), self.digits(b), strict=True)]
        )

    def mul(self, a: int, b: int) -> int:
        da, db = self.digits(a), self.digits(b)
        prod = [0] * (2 * self.n - 1)
        for i, x in enumerate(da):
            for j, y in enumerate(db):
                prod[i + j] = (prod[i + j] + x * y) % self.p
        return self.number(_poly_mod(prod, list(self.modulus), self.p))


def design_fits(people: int, tables: int, rounds: int) -> bool:
    """Whether the affine-plane seating exists: ``tables`` a prime power, at most ``tables``
    people a table, at most ``tables`` rounds."""
    size = -(-people // tables)
    return prime_power(tables) is not None and size <= tables and rounds <= tables


def design_tables(people: int, tables: int, rounds: int) -> list[list[int]]:
    """``out[r][position]``: the table (0-based) of each used position in round ``r``.

    Positions are numbered row by row (``i * tables + j``); the used ones are the first
    ``people``, so the holes are the last positions of the last row.
    """
    field = Field.of_order(tables)
    rows = -(-people // tables)
    out = []
    for r in range(rounds):
        steps = [field.mul(r, i) for i in range(rows)]
        out.append([field.add(j, steps[i]) for i in range(rows) for j in range(tables)][:people])
    return out
