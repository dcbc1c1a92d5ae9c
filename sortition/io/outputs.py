"""Write an output folder atomically: everything appears at once, or nothing does."""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sortition.cancel import committing
from sortition.errors import N_, InputError, Message, problem

MARKER = ".sortition-output"
"""The hidden file every output folder gets: it lists the files sortition wrote there, so that
``--force`` replaces a folder only when sortition wrote all of it (docs/outputs.md)."""


def check_output_dir(out: Path, force: bool, inputs: Sequence[Path] = ()) -> None:
    """Refuse an ``--out`` folder that cannot or must not be written, before any work is done.

    * a file in the way, or a place where no folder can be created (a read-only or missing
      parent, ``/proc``): bad input;
    * a folder that holds one of the ``inputs`` (or is the current folder, or holds it): refused
      even with ``force``, since replacing it would delete the input;
    * a non-empty folder: refused unless ``force``, and with ``force`` replaced only when it holds
      the marker of an earlier run and nothing but the files that run wrote.
    """
    resolved = _absolute(out)
    if resolved.exists() and not resolved.is_dir():
        raise InputError([problem(N_("exists and is not a folder"), file=str(out))])
    real = Path(os.path.realpath(resolved))
    for source in inputs:
        if _is_within(Path(os.path.realpath(source)), real):
            raise InputError(
                [
                    problem(
                        N_(
                            "holds the input file {source}; choose another --out folder (--force "
                            "would delete the input)"
                        ),
                        file=str(out),
                        source=source,
                    )
                ]
            )
    if _is_within(Path(os.path.realpath(Path.cwd())), real):
        raise InputError(
            [
                problem(
                    N_("is the current folder or holds it; choose a new --out folder"),
                    file=str(out),
                )
            ]
        )
    if resolved.is_dir():
        entries = sorted(entry.name for entry in resolved.iterdir())
        if entries and not force:
            hint = (
                Message(N_("pass --force to replace this earlier output"))
                if _foreign_entries(resolved, entries) == []
                else Message(
                    N_(
                        "choose another --out folder (--force replaces only a folder sortition "
                        "wrote)"
                    )
                )
            )
            raise InputError([problem(N_("is not empty; {hint}"), file=str(out), hint=hint)])
        if entries:
            foreign = _foreign_entries(resolved, entries)
            if foreign is None:
                raise InputError(
                    [
                        problem(
                            N_(
                                "was not written by sortition (it has no {marker} file), so "
                                "--force will not replace it; choose another --out folder"
                            ),
                            file=str(out),
                            marker=MARKER,
                        )
                    ]
                )
            if foreign:
                shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
                raise InputError(
                    [
                        problem(
                            N_(
                                "holds files sortition did not write ({files}), so --force will "
                                "not replace it; move them or choose another --out folder"
                            ),
                            file=str(out),
                            files=shown,
                        )
                    ]
                )
    _check_writable(out, resolved)


def is_output_dir(out: Path) -> bool:
    """True when ``out`` is a folder that sortition wrote and nobody added to (``--force`` may
    replace it without losing anything)."""
    resolved = _absolute(out)
    if not resolved.is_dir():
        return False
    entries = sorted(entry.name for entry in resolved.iterdir())
    return _foreign_entries(resolved, entries) == []


def _foreign_entries(folder: Path, entries: list[str]) -> list[str] | None:
    """The entries of ``folder`` that its marker does not list; None when it has no marker."""
    marker = folder / MARKER
    if not marker.is_file():
        return None
    try:
        listed = json.loads(marker.read_text(encoding="utf-8")).get("files", [])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(listed, list):
        return None
    known = {str(name) for name in listed} | {MARKER}
    return [name for name in entries if not _known_entry(folder, name, known)]


def _known_entry(folder: Path, name: str, known: set[str]) -> bool:
    """A file the marker lists, or a folder (``private/``) every file of which it lists."""
    path = folder / name
    if not path.is_dir():
        return name in known
    inside = [entry for entry in path.rglob("*") if not entry.is_dir()]
    return bool(inside) and all(entry.relative_to(folder).as_posix() in known for entry in inside)


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_writable(out: Path, resolved: Path) -> None:
    """A folder can be made beside ``out``: try it (access bits do not tell for root or /proc)."""
    existing = resolved.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(
            [
                problem(
                    N_("cannot be created: {existing} is not a folder"),
                    file=str(out),
                    existing=existing,
                )
            ]
        )
    try:
        probe = tempfile.mkdtemp(prefix=".sortition-probe.", dir=existing)
        os.rmdir(probe)
    except OSError as error:
        reason = error.strerror or error
        raise InputError(
            [problem(N_("cannot be written ({reason})"), file=str(out), reason=reason)]
        ) from None


@contextmanager
def atomic_output_dir(out: Path, force: bool, inputs: Sequence[Path] = ()) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success it replaces ``out`` in one rename.

    The marker (``MARKER``, listing the files written, those in a subfolder such as
    ``private/`` by their path in the folder) is added last. On any error or interrupt
    the temporary folder is removed and ``out`` is left as it was.
    """
    check_output_dir(out, force, inputs)
    resolved = _absolute(out)
    parent = resolved.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{resolved.name}.", dir=parent))
    os.chmod(staging, 0o777 & ~_current_umask())  # mkdtemp makes it private; outputs are not
    try:
        yield staging
        files = sorted(
            entry.relative_to(staging).as_posix()
            for entry in staging.rglob("*")
            if not entry.is_dir()
        )
        write_json(staging / MARKER, {"written_by": "sortition", "files": files})
        with committing():
            _swap(staging, resolved)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap(staging: Path, out: Path) -> None:
    """Put ``staging`` in the place of ``out``, putting the old ``out`` back if interrupted."""
    if not out.exists():
        os.rename(staging, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
    previous = old / "previous"
    try:
        os.rename(out, previous)
        os.rename(staging, out)
    except BaseException:
        if previous.exists() and not out.exists():
            os.rename(previous, out)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


PRIVATE_FOLDER = "private"  # DIR/private/: for the organiser, never published (docs/privacy.md)


def private_folder(folder: Path) -> Path:
    """``folder/private``, created readable by its owner only."""
    private = folder / PRIVATE_FOLDER
    private.mkdir(mode=0o700, exist_ok=True)
    os.chmod(private, 0o700)
    return private


_CSV_BOM: ContextVar[bool] = ContextVar("sortition_csv_bom", default=False)


@contextmanager
def csv_byte_order_mark(on: bool = True) -> Iterator[None]:
    """Within the block (in this thread or task), every CSV file sortition writes starts with
    the UTF-8 byte-order mark when ``on``: Excel then reads it as UTF-8 and shows Hebrew, Arabic
    or accented names correctly (without it, Excel guesses the system's code page). The entry
    layers turn it on for ``--excel-csv`` and when an input CSV file had one; JSON, HTML and
    text files never get one."""
    token = _CSV_BOM.set(on)
    try:
        yield
    finally:
        _CSV_BOM.reset(token)


def csv_encoding() -> str:
    """The encoding CSV files are written in here: ``utf-8-sig`` (with the byte-order mark)
    inside ``csv_byte_order_mark()``, else ``utf-8``."""
    return "utf-8-sig" if _CSV_BOM.get() else "utf-8"


def write_csv(path: Path, header: Sequence[str], rows: Iterator[Sequence[str]] | list[Any]) -> None:
    """A CSV file: UTF-8 (with the byte-order mark inside ``csv_byte_order_mark()``), ``\n``
    line ends, quoted only where needed."""
    with path.open("w", encoding=csv_encoding(), newline="") as handle:
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
