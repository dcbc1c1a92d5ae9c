"""`sortition verify`: check a published record, one line per item."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sortition_cli.examples import epilog
from sortition_cli.i18n import _, command, library_message, library_text
from sortition_cli.options import file_option, pseudonym_key_option
from sortition_cli.reporting import reports_errors

import sortition


@command(epilog=epilog("verify"))
@click.argument("record_path", metavar="RECORD", type=click.Path(path_type=Path, dir_okay=False))
@file_option("--pool", "pool_path", "The pool file, to check against the record's digest.")
@file_option("--quotas", "quotas_path", "The quota file, to check against the record's digest.")
@click.option(
    "--recompute",
    is_flag=True,
    help="Re-run the algorithm and compare every probability (within 1e-6).",
)
@file_option(
    "--registry",
    "registry_path",
    "An invitation record's registry file, to re-derive every invitation (required for an "
    "invitation record).",
)
@pseudonym_key_option
@file_option(
    "--panel",
    "panel_path",
    "A groups record's panel file, to check against the record's digest.",
)
@click.option(
    "--expect",
    default=None,
    metavar="SHA256",
    help="The commitment SHA-256 the organiser published before the draw: the record must "
    "carry that commitment.",
)
@reports_errors
def verify(
    record_path: Path,
    pool_path: Path | None,
    quotas_path: Path | None,
    recompute: bool,
    registry_path: Path | None,
    pseudonym_key: Path | None,
    expect: str | None,
    panel_path: Path | None,
) -> None:
    """Check a published record: digests, the draw from the seed, quotas and households.

    Prints one line per item; exits 0 when every item matches, 1 when one does not.
    """
    report = sortition.verify_record(
        record_path,
        pool_path,
        quotas_path,
        registry_path=registry_path,
        recompute=recompute,
        expect=expect,
        pseudonym_key=pseudonym_key,
        panel_path=panel_path,
    )
    for warning in report.warnings:
        click.echo(_("warning: {warning}").format(warning=library_text(warning)), err=True)
    for item in report.items:
        mark = _("ok") if item.ok else _("MISMATCH")
        name, detail = item.text(library_message)
        click.echo(f"[{mark}] {name}: {detail}")
    failed = [item.text(library_message)[0] for item in report.items if not item.ok]
    if failed:
        click.echo()
        click.echo(
            _("{failed} of {items} items do not match: {names}").format(
                failed=len(failed), items=len(report.items), names=", ".join(failed)
            )
        )
        sys.exit(1)
    click.echo()
    click.echo(_("all {items} items match.").format(items=len(report.items)))
