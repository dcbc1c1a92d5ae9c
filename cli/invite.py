"""Stage-1 commands: `invite` (the invitation lottery), `match` (registrations against the
invitations) and `generate-registry` (synthetic registries). Thin over the library."""

from __future__ import annotations

from pathlib import Path

import click
from sortition_cli.examples import epilog
from sortition_cli.i18n import _, command
from sortition_cli.options import (
    PrivacyArgs,
    SeedArgs,
    allow_empty_household_option,
    file_option,
    inputs,
    output_options,
    privacy_options,
    seed_options,
    split_columns,
)
from sortition_cli.privacy import echo_written
from sortition_cli.progress import ProgressRenderer
from sortition_cli.reporting import reports_errors

from sortition.errors import InputError, Problem
from sortition.invitations.allocation import parse_weight_options, read_weights_file
from sortition.invitations.matching import match_registrations, write_match
from sortition.invitations.service import (
    ENGINES,
    InviteRequest,
    draw_invitations,
    write_invitations,
)
from sortition.io.outputs import check_output_dir


@command(epilog=epilog("invite"))
@file_option(
    "--registry",
    "registry_path",
    "The registry: CSV (UTF-8) or .parquet, one row per person.",
    required=True,
)
@click.option("--letters", required=True, type=click.IntRange(min=1), help="Letters to send.")
@click.option(
    "--id-column",
    default="id",
    show_default=True,
    help="Column holding each person's id (required: row numbers depend on file order).",
)
@click.option(
    "--household-columns",
    default=None,
    help="Columns that together identify a household (e.g. address,postcode): one letter each. "
    "Cells are compared ignoring case, spacing and compatibility forms (docs/households.md).",
)
@allow_empty_household_option
@click.option(
    "--stratify-by",
    default=None,
    help="Share the letters among the values of this column (e.g. area), in proportion to "
    "households × weight.",
)
@click.option(
    "--weight",
    "weight_options",
    multiple=True,
    help="COL=VALUE:W raises a stratum's weight (e.g. area=North:1.5); repeatable.",
)
@file_option(
    "--weights",
    "weights_path",
    "A table of weights: columns stratum (or the --stratify-by column) and weight.",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="local",
    show_default=True,
    help="local: this computer, reading the registry in chunks; dask: hash the registry on a "
    "Dask cluster (same invitations).",
)
@click.option("--scheduler", default=None, help="Dask scheduler address (with --engine dask).")
@privacy_options
@seed_options
@output_options()
@reports_errors
def invite(
    registry_path: Path,
    letters: int,
    id_column: str,
    household_columns: str | None,
    allow_empty_household: bool,
    stratify_by: str | None,
    weight_options: tuple[str, ...],
    weights_path: Path | None,
    engine: str,
    scheduler: str | None,
    privacy: PrivacyArgs,
    seed_source: SeedArgs,
    out: Path,
    force: bool,
) -> None:
    """Draw the addresses that get an invitation letter from a registry (stage 1).

    Each household (or person) is ranked by SHA-256 of the seed and its key; the smallest ranks
    in each stratum get the letters. Writes invitations.csv, allocation.csv and record.json.
    """
    check_output_dir(
        out, force, inputs(registry_path, weights_path) + privacy.files + seed_source.files
    )
    if scheduler is not None and engine != "dask":
        raise InputError([Problem(_("--scheduler needs --engine dask"))])
    if weight_options and weights_path is not None:
        raise InputError([Problem(_("give --weight or --weights, not both"))])
    weights = (
        read_weights_file(weights_path, stratify_by)
        if weights_path is not None
        else parse_weight_options(weight_options, stratify_by)
    )
    request = InviteRequest(
        registry_path,
        letters,
        id_column,
        split_columns(household_columns),
        stratify_by,
        weights,
        engine,
        scheduler,
        allow_empty_household,
        pseudonym_key=privacy.key(),
        ids_are_public=privacy.ids_are_public,
    )
    source = seed_source.resolve()
    progress = ProgressRenderer()
    try:
        result = draw_invitations(request, source, progress)
    finally:
        progress.close()
    registry = result.record["inputs"]["registry"]
    heading = (
        _("{rows} rows, {units} households; {letters} letters over {strata} strata (seed {seed}):")
        if result.columns.households
        else _("{rows} rows, {units} people; {letters} letters over {strata} strata (seed {seed}):")
    )
    click.echo(
        heading.format(
            rows=registry["rows"],
            units=registry["households"],
            letters=letters,
            strata=len(result.allocation),
            seed=repr(source.value),
        )
    )
    for line in result.allocation:
        share = _("{letters} of {units}").format(letters=line.letters, units=line.households)
        if line.weight != "1":
            share += _(", weight {weight}").format(weight=line.weight)
        if line.all_households:
            share += _(" (all of them)")
        click.echo(f"  {line.stratum}: {share}")
    echo_written(write_invitations(result, out, force), private=("invitations.csv",))


@command(epilog=epilog("match"))
@file_option(
    "--invitations",
    "invitations_path",
    "The invitations.csv that `sortition invite` wrote.",
    required=True,
)
@file_option(
    "--registrations",
    "registrations_path",
    "The people who answered: CSV, .xlsx or .parquet.",
    required=True,
)
@click.option(
    "--on",
    "on",
    required=True,
    help="Columns both files share that identify an invitation (e.g. address,postcode).",
)
@output_options()
@reports_errors
def match(
    invitations_path: Path, registrations_path: Path, on: str, out: Path, force: bool
) -> None:
    """Keep the registrations that answer an invitation: pool.csv for stage 2, rejected.csv with
    the reason for the rest."""
    check_output_dir(out, force, inputs(invitations_path, registrations_path))
    result = match_registrations(invitations_path, registrations_path, split_columns(on))
    paths = write_match(result, out, force)
    click.echo(
        _("{matched} registrations match an invitation, {rejected} do not.").format(
            matched=len(result.pool), rejected=len(result.rejected)
        )
    )
    click.echo(_("wrote:"))
    for path in paths:
        click.echo(f"  {path}")
