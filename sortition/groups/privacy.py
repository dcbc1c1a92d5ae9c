"""The privacy rules of ``sortition groups`` (docs/groups.md, "Privacy"; docs/privacy.md).

Without a key, a panel whose ids look personal is refused (unless the organiser states they are
public). With a key, each id becomes its keyed pseudonym (select's function, so a panel keeps
the pseudonyms of its selection record) and the panel is put in the pseudonyms' order as it is
read, so that every ordering of the search is theirs and the seating follows from the public
record alone. The organiser's ids are kept beside, in the same order, for the private files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sortition.errors import N_, InputError, problem
from sortition.groups.inputs import Panel
from sortition.privacy.keys import PseudonymKey
from sortition.privacy.personal import refuse_personal_ids
from sortition.privacy.pseudonyms import Pseudonyms, pseudonym, pseudonymise


@dataclass(frozen=True)
class PrivatePanel:
    """``panel`` as the record names it; ``own_ids`` the organiser's ids in its order (the
    panel's own when there is no key); ``table`` (id, pseudonym) in the file's row order and
    ``pseudonyms`` (what the record states of them), empty and None without a key."""

    panel: Panel
    own_ids: tuple[str, ...]
    table: tuple[tuple[str, str], ...] = ()
    pseudonyms: dict[str, object] | None = None

    @property
    def source_ids(self) -> tuple[str, ...] | None:
        """The organiser's ids for the private files, None when the record's are theirs."""
        return None if self.pseudonyms is None else self.own_ids


def private_panel(
    panel: Panel,
    file: str,
    key: PseudonymKey | None,
    ids_are_public: bool,
    length: int | None = None,
) -> PrivatePanel:
    """The panel named by keyed pseudonyms (cut to ``length`` hex digits when given: a re-seat
    keeps its record's; else select's collision-checked length), or as it is when no key is
    given, after refusing ids that look personal unless ``ids_are_public``."""
    if key is None:
        if not ids_are_public:
            refuse_personal_ids(panel.ids, panel.id_column, file)
        return PrivatePanel(panel, panel.ids)
    if length is None:
        made = pseudonymise(key, panel.ids)
    else:
        names = tuple(pseudonym(key, person, length) for person in panel.ids)
        if len(set(names)) < len(names):
            raise InputError([problem(N_("two ids have the same pseudonym"), file=file)])
        made = Pseudonyms(names, length, key)
    order = sorted(range(len(panel.ids)), key=lambda i: made.names[i])
    keyed = Panel(
        tuple(made.names[i] for i in order),
        panel.id_column,
        tuple(tuple(cells[i] for i in order) for cells in panel.balance),
        tuple(panel.apart[i] for i in order),
        None if panel.names is None else tuple(panel.names[i] for i in order),
    )
    return PrivatePanel(
        keyed,
        tuple(panel.ids[i] for i in order),
        tuple(zip(panel.ids, made.names, strict=True)),
        made.describe(),
    )


def record_key(
    record: dict[str, Any], key: PseudonymKey | None, name: str
) -> tuple[PseudonymKey, int] | None:
    """The key and pseudonym length to name people as the record does (None: by their own ids);
    InputError when the key is missing, another key, or given for a record without pseudonyms."""
    method = record.get("panel", {}).get("pseudonyms")
    if method is None:
        if key is not None:
            raise InputError(
                [
                    problem(
                        N_(
                            "names people by the panel file's own ids, not by pseudonyms: leave "
                            "out --pseudonym-key"
                        ),
                        file=name,
                    )
                ]
            )
        return None
    if key is None:
        raise InputError(
            [
                problem(
                    N_(
                        "names people by keyed pseudonyms: re-seating it needs the organiser's "
                        "key (--pseudonym-key FILE)"
                    ),
                    file=name,
                )
            ]
        )
    stated = method.get("key_fingerprint") if isinstance(method, dict) else None
    if key.fingerprint != stated:
        raise InputError(
            [
                problem(
                    N_(
                        "was made with the key whose fingerprint is {stated}; {key} has "
                        "fingerprint {fingerprint}: it is another key"
                    ),
                    file=name,
                    stated=stated,
                    key=key.name,
                    fingerprint=key.fingerprint,
                )
            ]
        )
    return key, int(method["length"])


def keyed_dropouts(
    seated: Sequence[str], dropouts: Sequence[str], keyed: tuple[PseudonymKey, int], name: str
) -> list[str]:
    """The dropouts' pseudonyms (InputError, naming the organiser's id, for one not seated)."""
    key, length = keyed
    present = set(seated)
    made = [pseudonym(key, person.strip(), length) for person in dropouts]
    unknown = [person for person, p in zip(dropouts, made, strict=True) if p not in present]
    if unknown:
        raise InputError(
            [
                problem(N_("--dropout {id}: not seated in this record"), file=name, id=p)
                for p in unknown
            ]
        )
    return made
