"""The household key: when two rows are the same household, in every command.

People type their address by hand, so ``49 Saltings Lane`` and `` 49  SALTINGS lane `` must be one
household, in ``select``, ``check``, ``commit``, ``audit``, ``invite`` and ``match`` alike. Each
household cell is normalised by ``normalise_cell``, in this order:

1. Unicode normalisation form NFKC (compatibility characters become their plain forms: fullwidth
   ``４９`` becomes ``49``, the ligature ``ﬁ`` becomes ``fi``, a no-break space a space);
2. full Unicode case folding (``str.casefold``: ``SALTINGS`` and ``saltings`` agree, and so do
   ``STRASSE`` and ``Straße``);
3. NFKC again (case folding can leave text that is not in NFKC, e.g. ``ǰ`` folds to ``j`` and a
   combining caron);
4. every run of whitespace characters becomes one space (U+0020), and whitespace at either end is
   removed. The whitespace characters are exactly ``WHITESPACE``: Unicode's White_Space property
   (U+0009–U+000D, U+0020, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F,
   U+205F, U+3000) and the information separators U+001C–U+001F, so the key's separator can
   never appear inside a cell.

Nothing else changes: punctuation, digits, accents (``é`` stays distinct from ``e``) and
invisible characters that are not whitespace (zero-width space U+200B, soft hyphen U+00AD) are
kept. A cell is *empty* when its normalised form is the empty text (blank, or only whitespace).

The key of a household (``household_key``) is its normalised cells, in the order of
``--household-columns``, joined by the byte 0x1F (the ASCII unit separator). When *any* of its
cells is empty a row has no key: a household is never recognised from some of its cells, since
two different households can share a street name and differ only in the cell left blank. Such a
row is bad input, unless the organiser says (``--allow-empty-household``) that each such person
is a household of their own: that can split a real household, never join two.

Ids are not household cells: they are compared exactly, after removing surrounding spaces.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SEPARATOR = "\x1f"
# The whitespace characters of step 4: Unicode White_Space and the separators U+001C-U+001F.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
# Step 4 on ASCII text, where steps 1-3 are only ASCII lower-casing (``normalise_arrow``).
_ASCII_RUNS = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f ]+"
_ASCII_RUNS_TO_FIX = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f]|  "  # cells where runs need replacing


# What an organiser reads about an empty household cell (the file, row and column come apart).
def N_(message: str) -> str:
    """The ``library`` catalogue's mark, as ``sortition.errors.N_`` (this module sits beside
    sortition.errors, below every reader): returns ``message`` as it is."""
    return message


EMPTY_HOUSEHOLD_CELL = N_(
    "the household cell is empty: fill it in, or pass --allow-empty-household to count each "
    "person with an empty household cell as a household of their own"
)


def normalise_cell(text: str) -> str:
    """One household cell as the key compares it: NFKC, case folding, NFKC, then whitespace
    runs to one space and none at the ends (the module docstring gives the rule).

    >>> normalise_cell("  49  SALTINGS\\u00a0Lane ")
    '49 saltings lane'
    >>> normalise_cell("\\uff14\\uff19 Saltings Lane")  # fullwidth digits
    '49 saltings lane'
    >>> normalise_cell(" \\t ")
    ''
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    # str.split() splits on exactly the characters of WHITESPACE (the tests check it), and is
    # three times as fast as a regular expression on a registry's millions of cells.
    return " ".join(folded.split())


def normalise_arrow(cells: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``normalise_cell`` on every cell of a string array (no nulls), vectorised for registries
    of millions of rows: ASCII cells (NFKC leaves them alone, case folding is ASCII lower-casing)
    by Arrow's kernels, the others one by one in Python."""
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks() if cells.num_chunks else pa.array([], pa.string())
    lowered = pc.ascii_lower(cells)
    # Replacing runs costs far more than finding them, and few cells have any: a run to replace
    # is two spaces or an ASCII whitespace character other than the space (all below 0x20).
    # A look at the bytes of all cells at once tells whether any cell may have one.
    data = lowered.buffers()[2]
    chars = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    spaces = chars == 0x20
    if (chars < 0x20).any() or (spaces[1:] & spaces[:-1]).any():
        runs = pc.match_substring_regex(lowered, _ASCII_RUNS_TO_FIX)
        if pc.any(runs).as_py():
            fixed = pc.replace_substring_regex(lowered.filter(runs), _ASCII_RUNS, " ")
            lowered = pc.replace_with_mask(lowered, runs, fixed)
    fast = pc.utf8_trim(lowered, " ")
    ascii_cells = pc.string_is_ascii(cells)
    if pc.all(ascii_cells).as_py():
        return fast
    others = np.flatnonzero(~ascii_cells.to_numpy(zero_copy_only=False))
    encoded = cells.take(pa.array(others, type=pa.int64())).dictionary_encode()
    dictionary = pa.array(
        [normalise_cell(text) for text in encoded.dictionary.to_pylist()], type=pa.string()
    )
    slow = dictionary.take(encoded.indices)
    return pc.replace_with_mask(fast, pc.invert(ascii_cells), slow)


def household_key(cells: Sequence[str]) -> str | None:
    """The household's key: its normalised cells joined by 0x1F; None when any cell is empty
    (the caller decides: bad input, or with ``--allow-empty-household`` a household of one).

    >>> household_key([" 49 SALTINGS  LANE", "ev5 6ra"])
    '49 saltings lane\\x1fev5 6ra'

    >>> household_key(["49 Saltings Lane", " "]) is None
    True
    """
    normalised = [normalise_cell(cell) for cell in cells]
    if not normalised or any(cell == "" for cell in normalised):
        return None
    return SEPARATOR.join(normalised)
