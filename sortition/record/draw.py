"""The draw: from a commitment (everything fixed before the seed exists) and a seed, the panel.

``select`` (one step), ``draw`` (after ``commit``) and ``verify`` all derive the panel here, from
the commitment's data alone, so the three cannot disagree:

* LEGACY re-runs the greedy on the pool and quotas the commitment embeds;
* a fair algorithm draws one panel of its distribution (docs/distribution.md), then the members;
* with an M-panel lottery, one of the M published panels: the stream's ``below(M) + 1``, or, when
  the seed is ``d`` ten-sided dice and M = 10^d, the dice read as a d-digit number plus one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from sortition.engine.legacy import LegacySampler
from sortition.errors import N_, Message
from sortition.io.outputs import json_text
from sortition.randomness import SeededStream
from sortition.record.distribution_draw import choose_members, draw_panel_index
from sortition.record.reader import RecordReader, record_instance
from sortition.record.types import unit_members

# The keys of a record that the commitment fixes, in the order the commitment file lists them.
COMMITMENT_KEYS = (
    "kind",
    "version",
    "tool",
    "inputs",
    "k",
    "algorithm",
    "parameters",
    "lottery",
    "probabilities",
    "distribution",
    "quotas",
    "pool",
)
# The draw's own part of them: COMMITMENT_KEYS without the record's kind, version and tool.
DRAW_KEYS = tuple(key for key in COMMITMENT_KEYS if key not in ("kind", "version", "tool"))


# From replacement record version 2 on, a replacement draw's commitment also fixes the chain it
# builds on and who left (docs/record.md): the round, the previous record (its SHA-256 and the
# record itself), the dropouts and the unavailable. Version 1 fixed COMMITMENT_KEYS only.
REPLACEMENT_COMMITMENT_KEYS = (
    "kind",
    "version",
    "tool",
    "round",
    "builds_on",
    "dropouts",
    "unavailable",
    *DRAW_KEYS,
    "previous",
)


def commitment_keys(record: dict[str, Any]) -> tuple[str, ...]:
    """The keys the commitment of ``record`` fixes: ``REPLACEMENT_COMMITMENT_KEYS`` for a
    replacement record (or commitment) of version 2 or later, else ``COMMITMENT_KEYS``."""
    if record.get("kind") == "replacement" and record.get("version") != 1:
        return REPLACEMENT_COMMITMENT_KEYS
    return COMMITMENT_KEYS


def commitment_of(record: dict[str, Any]) -> dict[str, Any]:
    """The part of a record (or commitment) fixed before the seed, in canonical key order."""
    return {key: record[key] for key in commitment_keys(record) if key in record}


def commitment_text(commitment: dict[str, Any]) -> str:
    """commitment.json's exact text: its SHA-256 is the value published before the seed."""
    return json_text(commitment_of(commitment))


def commitment_sha256(commitment: dict[str, Any]) -> str:
    return hashlib.sha256(commitment_text(commitment).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Draw:
    panel: list[str]  # ids, in id order
    method: str  # "legacy", "distribution", "lottery" or "lottery-dice"
    panel_number: int | None = None  # 1-based: a lottery panel, else a distribution panel
    of: int | None = None  # how many panels it was drawn from
    attempts: int | None = None  # LEGACY

    def as_record(self) -> dict[str, Any]:
        draw: dict[str, Any] = {"method": self.method}
        if self.panel_number is not None:
            draw["panel_number"] = self.panel_number
            draw["of"] = self.of
        if self.attempts is not None:
            draw["attempts"] = self.attempts
        return draw


def dice_panel_number(seed: str, m: int) -> int | None:
    """With M = 10^d and a seed ``dice:r1,...,rd`` of d rolls of 0-9: the rolls as a d-digit
    number plus one. None when the seed is not such dice (the stream decides then)."""
    if not seed.startswith("dice:"):
        return None
    rolls = seed[len("dice:") :].split(",")
    if m != 10 ** len(rolls) or not all(r.isdigit() and len(r) == 1 for r in rolls):
        return None
    return int("".join(rolls)) + 1


def derive_draw(commitment: dict[str, Any], seed: str, name: str = "record.json") -> Draw:
    reader = RecordReader(name)
    algorithm = reader.text(commitment, "algorithm")
    stream = SeededStream(seed)
    if "lottery" in commitment:
        panels = reader.items(commitment, "lottery.panels")
        m = len(panels)
        number = dice_panel_number(seed, m)
        method = "lottery-dice"
        if number is None:
            number, method = stream.below(m) + 1, "lottery"
        chosen_panel = panels[number - 1]
        if not isinstance(chosen_panel, list) or not all(isinstance(p, str) for p in chosen_panel):
            raise reader.fail(
                Message(N_("'{path}' must be a list of ids"), path=f"lottery.panels[{number}]")
            )
        return Draw(sorted(chosen_panel), method, number, m)
    if algorithm == "legacy":
        instance = record_instance(commitment, name)
        attempts = reader.integer(commitment, "parameters.max_attempts", minimum=1)
        drawn = LegacySampler(instance).draw(stream, attempts)
        ids = instance.pool.ids
        return Draw([ids[int(i)] for i in drawn.panel], "legacy", attempts=drawn.attempts)
    document = reader.mapping(commitment, "distribution")
    panels = reader.items(document, "panels")
    weights = [float(panel["weight"]) for panel in panels]
    index = draw_panel_index(weights, stream)
    if document.get("path") == "people":
        members = [[person] for person in panels[index]["members"]]
        counts = np.ones(len(members), dtype=np.int64)
    else:
        members = unit_members(reader.items(document, "units"))
        counts = np.zeros(len(members), dtype=np.int64)
        for unit, count in panels[index]["counts"]:
            counts[int(unit)] += int(count)
    flat = [person for group in members for person in group]
    starts = np.cumsum([0] + [len(group) for group in members])
    positions = [np.arange(starts[u], starts[u + 1]) for u in range(len(members))]
    chosen = choose_members(counts, positions, stream)
    return Draw(sorted(flat[int(i)] for i in chosen), "distribution", index + 1, len(panels))
