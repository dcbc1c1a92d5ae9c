"""Letters per stratum: proportional to size × weight by largest remainder, small strata capped."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.errors import InputError
from sortition.invitations.allocation import (
    allocate,
    parse_weight,
    parse_weight_options,
    weight_text,
)


def letters(households: dict[str, int], n: int, weights: dict[str, Fraction] | None = None):
    return {a.stratum: a.letters for a in allocate(households, weights or {}, n)}


def test_proportional_with_largest_remainder() -> None:
    # quotas 3.33.., 3.33.., 3.33.. -> 3, 3, 3 and the one left over to the first name
    assert letters({"b": 10, "a": 10, "c": 10}, 10) == {"a": 4, "b": 3, "c": 3}
    # quotas 5.5, 3.3, 1.2 -> 5, 3, 1; the left-over letter to the largest remainder (0.5)
    assert letters({"x": 55, "y": 33, "z": 12}, 10) == {"x": 6, "y": 3, "z": 1}


def test_weights_raise_a_stratum() -> None:
    plain = letters({"north": 100, "south": 100}, 30)
    weighted = letters({"north": 100, "south": 100}, 30, {"north": Fraction(2)})
    assert plain == {"north": 15, "south": 15}
    assert weighted == {"north": 20, "south": 10}


def test_small_strata_get_everything_and_the_rest_is_reallocated() -> None:
    result = allocate({"tiny": 2, "big": 100, "mid": 50}, {"tiny": Fraction(10)}, 30)
    by_name = {a.stratum: a for a in result}
    # tiny's share (30 * 20 / 170 = 3.5) is above its 2 households: it gets 2, the other 28 go
    # to big and mid as 100:50
    assert by_name["tiny"].letters == 2 and by_name["tiny"].all_households
    assert by_name["big"].letters == 19 and by_name["mid"].letters == 9
    assert not by_name["big"].all_households
    assert sum(a.letters for a in result) == 30


def test_more_letters_than_households_is_bad_input() -> None:
    with pytest.raises(InputError, match="more than the 5 households"):
        allocate({"a": 2, "b": 3}, {}, 6)
    assert letters({"a": 2, "b": 3}, 5) == {"a": 2, "b": 3}


def test_weight_syntax() -> None:
    assert parse_weight_options(["area=North:1.5", "Area=South West:2"], "area") == {
        "North": Fraction(3, 2),
        "South West": Fraction(2),
    }
    assert parse_weight_options(["area=a:b:3"], "area") == {"a:b": Fraction(3)}
    for bad in ["area=North", "North:2", "area=North:x", "area=North:0", "age=North:2"]:
        with pytest.raises(InputError):
            parse_weight_options([bad], "area")
    with pytest.raises(InputError, match="--stratify-by"):
        parse_weight_options(["area=North:2"], None)
    assert weight_text(parse_weight("1.50", "w")) == "1.5"
    assert weight_text(parse_weight("20", "w")) == "20"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 500), st.sampled_from(["1", "1", "2", "0.5", "3.25"])),
        min_size=1,
        max_size=12,
    ),
    st.floats(0.0, 1.0),
)
def test_allocation_invariants(strata: list[tuple[int, str]], fraction: float) -> None:
    households = {f"s{i:02d}": size for i, (size, _) in enumerate(strata)}
    weights = {f"s{i:02d}": parse_weight(w, "w") for i, (_, w) in enumerate(strata)}
    total = sum(households.values())
    n = max(1, round(fraction * total))
    result = allocate(households, weights, n)
    assert sum(a.letters for a in result) == n
    for a in result:
        assert 0 <= a.letters <= a.households
        if a.all_households:
            assert a.letters == a.households
    # the uncapped strata share the rest by Hamilton's quota rule: within 1 of their quota
    active = [a for a in result if not a.all_households]
    rest = n - sum(a.letters for a in result if a.all_households)
    mass = sum(a.households * weights[a.stratum] for a in active)
    for a in active:
        quota = rest * a.households * weights[a.stratum] / mass
        assert math.floor(quota) <= a.letters <= math.ceil(quota)
