"""Write an output folder atomically: everything appears at once, or nothing does."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sortition.errors import InputError, Problem


def check_output_dir(out: Path, force: bool) -> None:
    """Refuse a non-empty folder unless ``force``; refuse a file in the way. Call before working."""
    if out.exists() and not out.is_dir():
        raise InputError([Problem("exists and is not a folder", file=str(out))])
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(
            [Problem("is not empty; choose another --out folder or pass --force", file=str(out))]
        )


@contextmanager
def atomic_output_dir(out: Path, force: bool) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success it replaces ``out`` in one rename.

    On any error the temporary folder is removed and ``out`` is left as it was.
    """
    check_output_dir(out, force)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    os.chmod(staging, 0o777 & ~_current_umask())  # mkdtemp makes it private; outputs are not
    try:
        yield staging
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=parent))
            os.rename(out, old / "previous")
            os.rename(staging, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_csv(path: Path, header: Sequence[str], rows: Iterator[Sequence[str]] | list[Any]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def json_text(data: Any) -> str:
    """JSON that people can read and diff: nested objects indented, and each element of a list
    of objects or lists on a line of its own (compact inside), so a pool of thousands stays one
    line per person."""
    return _json_lines(data, 0) + "\n"


def _json_lines(data: Any, depth: int) -> str:
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(data, dict) and data:
        items = [
            f"{inner}{_compact(key)}: {_json_lines(value, depth + 1)}"
            for key, value in data.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(data, list) and data and all(isinstance(x, dict | list) for x in data):
        items = [f"{inner}{_compact(item)}" for item in data]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return _compact(data)


def _compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))


def write_json(path: Path, data: Any) -> None:
    path.write_text(json_text(data), encoding="utf-8")


def write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def csv_text(header: Sequence[str], rows: list[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
