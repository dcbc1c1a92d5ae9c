"""How many volunteers share their type (their combination of quota features) with how many
others: what a published pool can single out (docs/privacy.md, section 6)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sortition.model import Pool


@dataclass(frozen=True)
class TypeSizes:
    """``people``, ``types``, and the people in a type of one (``alone``) or of fewer than
    ``small_limit`` (``in_small``)."""

    people: int
    types: int
    alone: int
    in_small: int
    small_limit: int


def type_sizes(pool: Pool, small_limit: int = 5) -> TypeSizes:
    """Count the pool's types and the people who are alone (or few) in theirs."""
    rows = [tuple(row) for row in pool.values.tolist()]
    size = Counter(rows)
    return TypeSizes(
        people=len(rows),
        types=len(size),
        alone=sum(1 for row in rows if size[row] == 1),
        in_small=sum(1 for row in rows if size[row] < small_limit),
        small_limit=small_limit,
    )
