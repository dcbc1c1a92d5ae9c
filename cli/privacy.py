"""`sortition new-key` and `sortition pseudonym` (sortition.privacy), and the lines every command
writing outputs ends with: which files may be published and which stay private."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
from sortition_cli.examples import epilog
from sortition_cli.i18n import _, command
from sortition_cli.options import PSEUDONYM_KEY_HELP
from sortition_cli.reporting import reports_errors

from sortition.io.outputs import PRIVATE_FOLDER
from sortition.privacy.keys import new_key, read_key
from sortition.privacy.pseudonyms import FULL_LENGTH, PSEUDONYM_LENGTH, pseudonym

# Outputs that name volunteers by the pool file's own ids or hold their other columns.
PRIVATE_FILES = ("selected.csv", "remaining.csv", "probabilities.csv")


def echo_written(paths: Sequence[Path], private: Sequence[str] = PRIVATE_FILES) -> None:
    """The files written, then which may be published and which stay with the organiser
    (``private`` names, and everything under DIR/private/)."""
    click.echo(_("wrote:"))
    for path in paths:
        click.echo(f"  {path}")

    def is_private(path: Path) -> bool:
        return path.name in private or path.parent.name == PRIVATE_FOLDER

    public = [path.name for path in paths if not is_private(path)]
    kept = [
        f"{path.parent.name}/{path.name}" if path.parent.name == PRIVATE_FOLDER else path.name
        for path in paths
        if is_private(path)
    ]
    if public:
        click.echo(_("may be published: {files}").format(files=", ".join(public)))
    if kept:
        click.echo(_("keep private (never publish): {files}").format(files=", ".join(kept)))


@command("new-key", epilog=epilog("new-key"))
@click.argument("key_path", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False))
@reports_errors
def new_key_command(key_path: Path) -> None:
    """Create a pseudonym key: FILE gets 32 fresh random bytes, readable by you alone (0600).

    Never replaces a file. Keep the key with the pool file, never with the record: whoever holds
    it can tell whether an id is in the record. The same key gives the same pseudonyms, so use
    one key for a whole assembly (invitations, selection, replacements).
    """
    key = new_key(key_path)
    click.echo(
        _("wrote {file} ({size} bytes, permissions 0600)").format(
            file=key_path, size=len(key.secret)
        )
    )
    click.echo(
        _("key fingerprint (the records state it): {fingerprint}").format(
            fingerprint=key.fingerprint
        )
    )
    click.echo(
        _("keep a copy with the pool file: without it nobody can match pseudonyms to people")
    )


@command("pseudonym", epilog=epilog("pseudonym"))
@click.option(
    "--pseudonym-key",
    "key_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help=PSEUDONYM_KEY_HELP,
)
@click.option(
    "--id",
    "ids",
    required=True,
    multiple=True,
    help="An id as the pool or registry file holds it (repeat for several); surrounding spaces "
    "are dropped, as the files' ids are read.",
)
@click.option(
    "--length",
    type=click.IntRange(min=PSEUDONYM_LENGTH, max=FULL_LENGTH),
    default=PSEUDONYM_LENGTH,
    show_default=True,
    help="Hex digits, as the record's inputs.pool.pseudonyms.length states (more only when 16 "
    "would have given two people the same pseudonym).",
)
@reports_errors
def pseudonym_command(key_path: Path, ids: tuple[str, ...], length: int) -> None:
    """Print the pseudonym of each id under the key, one per line, so that a volunteer can find
    themselves in the published record and probabilities."""
    key = read_key(key_path)
    for identifier in ids:
        click.echo(pseudonym(key, identifier.strip(), length))
