"""Synthetic registries for tests and benchmarks: households of 1–6 people in skewed strata.

Columns: ``id`` (unique, ``P`` and digits), ``address`` and ``postcode`` (together the
household), ``area`` (the stratum, ``area-01`` …), ``age``. Rows are shuffled, so a household's
members are scattered through the file as in a real population register. Everything is drawn with
vectorised NumPy from ``numpy_generator(seed, "registry")``, so ten million rows take seconds.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sortition.errors import N_, InputError, problem
from sortition.io.outputs import atomic_output_dir, csv_encoding
from sortition.io.tables import BYTE_ORDER_MARK, PARQUET_SUFFIXES
from sortition.randomness import numpy_generator

HOUSEHOLD_SIZES = np.arange(1, 7)
HOUSEHOLD_SHARES = np.array([0.29, 0.35, 0.15, 0.13, 0.06, 0.02])  # of households, by size
HOUSES_PER_STREET = 97
MAX_ROWS = 100_000_000  # ids stay within 64-bit arithmetic


def _text(numbers: np.ndarray, prefix: str = "", width: int = 0) -> pa.Array:
    """Numbers as text (``prefix`` and zero-padded digits) for many distinct numbers."""
    text = pa.array(numbers).cast(pa.string())
    if width:
        text = pc.utf8_lpad(text, width=width, padding="0")
    if prefix:
        text = pc.binary_join_element_wise(prefix, text, "")
    return text


def _labels(numbers: np.ndarray, prefix: str = "", width: int = 0) -> pa.Array:
    """The same for few distinct (small, non-negative) numbers: a lookup table, then a take."""
    table = pa.array([f"{prefix}{n:0{width}d}" for n in range(int(numbers.max()) + 1)])
    return table.take(pa.array(numbers))


def generate_registry(rows: int, strata: int, seed: str) -> pa.Table:
    """A registry of ``rows`` people in ``strata`` areas of skewed sizes (lognormal shares)."""
    if rows < 1 or strata < 1:
        raise InputError([problem(N_("a registry needs at least one row and one stratum"))])
    if rows > MAX_ROWS:
        raise InputError([problem(N_("at most {rows} rows"), rows=f"{MAX_ROWS:,}")])
    rng = numpy_generator(seed, "registry")
    mean_size = float(HOUSEHOLD_SIZES @ HOUSEHOLD_SHARES)
    sizes = rng.choice(HOUSEHOLD_SIZES, size=int(rows / mean_size * 1.2) + 10, p=HOUSEHOLD_SHARES)
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, rows)) + 1  # households needed to reach ``rows`` people
    sizes = sizes[:count].copy()
    sizes[-1] -= int(ends[count - 1]) - rows
    shares = rng.lognormal(0.0, 1.0, strata)
    area_of_household = rng.choice(strata, size=count, p=shares / shares.sum())
    household = np.repeat(np.arange(count), sizes)[rng.permutation(rows)]
    street = household // HOUSES_PER_STREET
    area = area_of_household[household]
    # unique, scattered ids: i -> (i × a + b) mod 10^d, a bijection when a is prime to 10
    id_width = len(str(rows * 10))
    modulus = 10**id_width
    multiplier = int(rng.integers(1, modulus // 10)) * 10 + int(rng.choice([1, 3, 7, 9]))
    offset = int(rng.integers(0, modulus))
    ids = (np.arange(rows, dtype=np.int64) * multiplier + offset) % modulus
    return pa.table(
        {
            "id": _text(ids, "P", id_width),
            "address": pc.binary_join_element_wise(
                _labels(household % HOUSES_PER_STREET + 1), _labels(street, "Street "), " "
            ),
            "postcode": pc.binary_join_element_wise(
                _labels(area + 1, "PC", len(str(strata))), _labels(street % 1000, "", 3), " "
            ),
            "area": _labels(area + 1, "area-", len(str(strata))),
            "age": _labels(rng.integers(16, 96, size=rows)),
        }
    )


def write_registry(table: pa.Table, path: Path) -> None:
    """Write CSV or Parquet by the suffix, atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            pq.write_table(table, temporary)
        else:
            with open(temporary, "wb") as out:
                if csv_encoding() == "utf-8-sig":
                    out.write(BYTE_ORDER_MARK)
                pacsv.write_csv(table, out)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


REGISTRY_FORMATS = ("csv", "parquet")


def write_registry_folder(table: pa.Table, out: Path, fmt: str, force: bool = False) -> Path:
    """Write ``registry.csv`` or ``registry.parquet`` (``fmt``) into the output folder ``out``,
    atomically like every command's outputs (sortition.io.outputs)."""
    if fmt not in REGISTRY_FORMATS:
        raise InputError(
            [problem(N_("unknown format {format} (known: csv, parquet)"), format=repr(fmt))]
        )
    name = f"registry.{fmt}"
    with atomic_output_dir(out, force) as staging:
        write_registry(table, staging / name)
    return out / name
