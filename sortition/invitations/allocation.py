"""How many letters each stratum gets: proportional to size × weight, by largest remainder.

``allocate`` is the whole rule (docs/invitations.md):

1. each active stratum's quota is ``remaining × size × weight / Σ size × weight`` (exact fractions);
2. every stratum gets the whole part of its quota; the letters left over go one each to the
   strata with the largest fractional parts, ties to the stratum whose name sorts first (Unicode
   code point order) — the largest remainder (Hamilton) method;
3. a stratum allocated more letters than it has households gets all its households and leaves the
   active set; the letters not yet given are allocated among the others by 1–2 again, until no
   stratum is over its size.

Weights are exact decimals (``Decimal`` text such as ``1.5``), so the arithmetic has no rounding.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from sortition.errors import N_, InputError, Message, problem
from sortition.io.tables import find_column, read_table

METHOD = (
    "largest remainder (Hamilton) over size × weight, ties to the first stratum name; strata "
    "with fewer households than their share get all of them and the rest is re-allocated the "
    "same way"
)

_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?|\.[0-9]+")


@dataclass(frozen=True)
class StratumAllocation:
    stratum: str
    households: int
    weight: str  # decimal text, as given (normalised), "1" by default
    letters: int
    all_households: bool  # capped: the stratum got every household it has


def parse_weight(text: str, where: str) -> Fraction:
    """A positive decimal weight (``2``, ``1.5``, ``0.75``) as an exact fraction; ``where`` (an
    option, a place in a file) heads the problem when it is not one."""
    value = _weight(text)
    if isinstance(value, Message):
        # "{where}: {problem}" has no words of its own: the problem is translated in its turn
        raise InputError([problem("{where}: {problem}", where=where, problem=value)])
    return value


def _weight(text: str) -> Fraction | Message:
    """The weight ``text`` stands for, or what is wrong with it."""
    cleaned = text.strip()
    if not _DECIMAL.fullmatch(cleaned):
        return Message(N_("weight {weight} is not a positive decimal number"), weight=repr(text))
    try:
        value = Fraction(Decimal(cleaned))
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        return Message(N_("weight {weight} is not a number"), weight=repr(text))
    if value <= 0:
        return Message(N_("weight {weight} must be above 0"), weight=repr(text))
    return value


def weight_text(value: Fraction) -> str:
    """The shortest decimal text of a weight parsed by ``parse_weight``."""
    if value.denominator == 1:
        return str(value.numerator)
    text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_weight_options(options: Sequence[str], stratify_by: str | None) -> dict[str, Fraction]:
    """``--weight COL=VALUE:W`` options: {stratum value: weight}. COL must be --stratify-by."""
    weights: dict[str, Fraction] = {}
    for option in options:
        where = f"--weight {option!r}"
        if stratify_by is None:
            raise InputError(
                [problem(N_("{option}: weights need --stratify-by COL"), option=where)]
            )
        column, equals, rest = option.partition("=")
        value, colon, weight = rest.rpartition(":")
        if not equals or not colon or not column.strip():
            raise InputError(
                [
                    problem(
                        N_("{option}: expected COL=VALUE:WEIGHT, e.g. area=North:1.5"), option=where
                    )
                ]
            )
        if column.strip().casefold() != stratify_by.strip().casefold():
            raise InputError(
                [
                    problem(
                        N_(
                            "{option}: column '{name}' is not the --stratify-by column '{stratify}'"
                        ),
                        option=where,
                        name=column.strip(),
                        stratify=stratify_by,
                    )
                ]
            )
        key = value.strip()
        if key in weights:
            raise InputError(
                [
                    problem(
                        N_("{option}: stratum {stratum} is weighted twice"),
                        option=where,
                        stratum=repr(key),
                    )
                ]
            )
        weights[key] = parse_weight(weight, where)
    return weights


def read_weights_file(path: Path, stratify_by: str | None) -> dict[str, Fraction]:
    """``--weights FILE``: a table with a ``weight`` column and a ``stratum`` column (or one named
    like the --stratify-by column)."""
    if stratify_by is None:
        raise InputError([problem(N_("weights need --stratify-by COL"), file=path.name)])
    table = read_table(path)
    weight_at = find_column(table.header, "weight")
    stratum_at = find_column(table.header, stratify_by)
    if stratum_at is None:
        stratum_at = find_column(table.header, "stratum")
    if weight_at is None or stratum_at is None:
        raise InputError(
            [
                problem(
                    N_("needs a 'weight' column and a 'stratum' (or '{stratify}') column"),
                    file=table.name,
                    row=1,
                    stratify=stratify_by,
                )
            ]
        )
    weights: dict[str, Fraction] = {}
    for index, (stratum, weight) in enumerate(
        zip(table.frame[stratum_at], table.frame[weight_at], strict=True)
    ):
        row = table.row_number(index)
        key = str(stratum).strip()
        if key in weights:
            raise InputError(
                [
                    problem(
                        N_("stratum {stratum} is weighted twice"),
                        file=table.name,
                        row=row,
                        column=table.header[0],
                        stratum=repr(key),
                    )
                ]
            )
        value = _weight(str(weight))
        if isinstance(value, Message):
            raise InputError(
                [
                    problem(
                        value.template,
                        file=table.name,
                        row=row,
                        column="weight",
                        **dict(value.params),
                    )
                ]
            )
        weights[key] = value
    return weights


def allocate(
    households: Mapping[str, int], weights: Mapping[str, Fraction], letters: int
) -> list[StratumAllocation]:
    """Letters per stratum (strata in name order); ``households`` counts each stratum's size.

    Raises InputError when the registry has fewer households than letters.
    """
    strata = sorted(households)
    total = sum(households.values())
    if letters > total:
        raise InputError(
            [
                problem(
                    N_(
                        "--letters {letters} is more than the {total} households in the registry "
                        "(everyone would be invited): lower --letters"
                    ),
                    letters=letters,
                    total=total,
                )
            ]
        )
    weight_of = {s: weights.get(s, Fraction(1)) for s in strata}
    given: dict[str, int] = {}
    capped: set[str] = set()
    active = [s for s in strata if households[s] > 0]
    remaining = letters
    while True:
        shares = _largest_remainder(
            {s: households[s] * weight_of[s] for s in active}, remaining, active
        )
        over = [s for s in active if shares[s] > households[s]]
        if not over:
            given.update(shares)
            break
        for s in over:
            given[s] = households[s]
            capped.add(s)
            remaining -= households[s]
        active = [s for s in active if s not in capped]
    return [
        StratumAllocation(s, households[s], weight_text(weight_of[s]), given.get(s, 0), s in capped)
        for s in strata
    ]


def _largest_remainder(
    sizes: Mapping[str, Fraction], letters: int, order: Sequence[str]
) -> dict[str, int]:
    total = sum(sizes.values(), Fraction(0))
    if letters == 0 or total == 0:
        return {s: 0 for s in order}
    quotas = {s: letters * sizes[s] / total for s in order}
    shares = {s: math.floor(q) for s, q in quotas.items()}
    left = letters - sum(shares.values())
    by_remainder = sorted(order, key=lambda s: (-(quotas[s] - shares[s]), s))
    for s in by_remainder[:left]:
        shares[s] += 1
    return shares
