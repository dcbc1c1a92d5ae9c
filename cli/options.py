"""The options several commands share (--pool, --quotas, -k, --out, --force, the seed sources ...)
and the helpers that turn them into library calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from sortition.seeds import Seed, resolve_seed
from sortition.selection.service import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    LoadedInput,
    load_input,
)

F = TypeVar("F", bound=Callable[..., Any])


allow_empty_household_option = click.option(
    "--allow-empty-household",
    is_flag=True,
    help="Count each person with an empty household cell as a household of their own (the "
    "record notes it); without it an empty household cell is an error.",
)


def split_columns(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


def input_options(command: F) -> F:
    """--pool, --quotas, -k, --id-column, --household-columns, --allow-empty-household: shared
    by check, select, commit and audit."""
    options = [
        click.option(
            "--pool",
            "pool_path",
            required=True,
            type=click.Path(path_type=Path, dir_okay=False),
            help="The volunteers: CSV (UTF-8; comma, semicolon, tab or |), .xlsx (first sheet) "
            "or .parquet.",
        ),
        click.option(
            "--quotas",
            "quotas_path",
            required=True,
            type=click.Path(path_type=Path, dir_okay=False),
            help="feature,value,min,max (or category,name / category,feature / category,value "
            "instead of feature,value); other columns are ignored with a warning.",
        ),
        click.option("-k", "k", required=True, type=click.IntRange(min=1), help="Panel size."),
        click.option(
            "--id-column",
            default=None,
            help="Column holding each person's id (default: 'id', else 'nationbuilder_id', "
            "else row numbers 0, 1, ...).",
        ),
        click.option(
            "--household-columns",
            default=None,
            help="Columns that together identify a household (e.g. address,postcode): at most "
            "one person per household is selected. Cells are compared ignoring case, spacing "
            "and compatibility forms (docs/households.md).",
        ),
        allow_empty_household_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


OUT_HELP = "Output folder (created; must be new or empty unless --force)."
FORCE_HELP = (
    "Replace an earlier output folder of sortition. Never a folder that holds the inputs or "
    "files sortition did not write."
)


def output_options(help: str = OUT_HELP) -> Callable[[F], F]:
    """--out FOLDER (required) and --force: every command that writes a folder."""

    def decorate(command: F) -> F:
        command = click.option("--force", is_flag=True, help=FORCE_HELP)(command)
        return click.option(
            "--out",
            "out",
            required=True,
            type=click.Path(path_type=Path, file_okay=False),
            help=help,
        )(command)

    return decorate


def time_limit_option(help: str) -> Callable[[F], F]:
    """--time-limit: seconds the fair algorithms may run (select, commit, audit)."""
    return click.option(
        "--time-limit", type=click.FloatRange(min=0.0, min_open=True), default=None, help=help
    )


def algorithm_options(command: F) -> F:
    """--algorithm, --max-attempts, --time-limit, --panels, --per-person: select and commit."""
    options = [
        click.option(
            "--algorithm",
            type=click.Choice(ALGORITHMS),
            default=DEFAULT_ALGORITHM,
            show_default=True,
            help="leximin: the fairest lottery the quotas allow (smallest chance as large as "
            "possible, then the next); maximin: only the smallest; nash: the product of the "
            "chances; legacy: the greedy used before 2021, which gives some volunteers almost "
            "no chance.",
        ),
        click.option(
            "--max-attempts",
            type=click.IntRange(min=1),
            default=100,
            show_default=True,
            help="LEGACY: restarts allowed after dead ends.",
        ),
        time_limit_option("Seconds the fair algorithms may run; past it, stop cleanly (exit 4)."),
        click.option(
            "--panels",
            type=click.IntRange(min=1),
            default=None,
            help="Round the distribution to a uniform lottery over M panels (e.g. 1000), "
            "published before the draw; with --dice and M = 10^d the panel number is the d dice "
            "plus one.",
        ),
        click.option(
            "--per-person",
            is_flag=True,
            help="Compute over individual people instead of types (slower; for cross-checks).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def load_input_files(
    pool_path: Path,
    quotas_path: Path,
    k: int,
    id_column: str | None,
    household_columns: str | None,
    allow_empty_household: bool = False,
) -> LoadedInput:
    loaded = load_input(
        pool_path,
        quotas_path,
        k,
        id_column,
        split_columns(household_columns),
        allow_empty_household,
    )
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    return loaded


def seed_options(command: F) -> F:
    """--seed, --beacon, --dice, --reveal/--commitments/--allow-missing: one seed source."""
    options = [
        click.option(
            "--seed", default=None, help="The seed string every random choice derives from."
        ),
        click.option(
            "--beacon",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="A saved drand or NIST Beacon 2.0 pulse (JSON); the tool never fetches it.",
        ),
        click.option("--dice", default=None, help='Dice rolled in public, e.g. "3,6,1,4,2,5".'),
        click.option(
            "--reveal",
            "reveals",
            multiple=True,
            help="A party's revealed secret (repeat for each party); needs --commitments.",
        ),
        click.option(
            "--commitments",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="The SHA-256 commitments published before the draw, one per line.",
        ),
        click.option(
            "--allow-missing",
            is_flag=True,
            help="Draw even if some committed party did not reveal (the record notes it).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def inputs(*paths: Path | None) -> list[Path]:
    """The input files a command reads: its --out folder must never hold them."""
    return [path for path in paths if path is not None]


def resolve_seed_source(
    seed: str | None,
    beacon: Path | None,
    dice: str | None,
    reveals: tuple[str, ...],
    commitments: Path | None,
    allow_missing: bool,
    *,
    allow_os: bool = True,
) -> Seed:
    resolved = resolve_seed(
        seed, beacon, dice, reveals, commitments, allow_missing, allow_os=allow_os
    )
    if resolved.source == "os":
        click.echo(
            f"no seed source given: using a fresh seed from the operating system: {resolved.value}"
        )
    elif resolved.source != "seed":
        click.echo(f"seed from {resolved.source}: {resolved.value}")
    return resolved
