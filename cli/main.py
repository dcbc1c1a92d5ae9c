"""The `sortition` command: parse arguments, call the library, print. No logic lives here."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click

from sortition import __version__
from sortition.errors import InfeasibleError, InputError, Problem, SortitionError
from sortition.feasibility import diagnose
from sortition.generate import PRESETS, generate_instance, value_counts_for, write_instance
from sortition.io.outputs import atomic_output_dir, check_output_dir
from sortition.randomness import fresh_seed
from sortition.record import SeedSource
from sortition.selection import ALGORITHMS, LoadedInput, load_input, select_panel, write_selection
from sortition.summary import format_summary, summary_rows

F = TypeVar("F", bound=Callable[..., Any])

DEMO_K = 20
DEMO_SEED = "sortition-demo"
DEMO_HOUSEHOLD_COLUMNS = ("address", "postcode")


def reports_errors(command: F) -> F:
    """Turn library errors into a clean message on stderr and the documented exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SortitionError as error:
            heading = {2: "bad input", 3: "the quotas cannot be met", 4: "time limit"}.get(
                error.exit_code, "error"
            )
            click.echo(f"error ({heading}):", err=True)
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)
            if isinstance(error, InfeasibleError) and error.advice:
                click.echo("advice (smallest change that makes a panel possible):", err=True)
                for line in error.advice:
                    click.echo(f"  {line}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was written", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _split_columns(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


def input_options(command: F) -> F:
    """--pool, --quotas, -k, --id-column, --household-columns: shared by check and select."""
    options = [
        click.option(
            "--pool",
            "pool_path",
            required=True,
            type=click.Path(path_type=Path, dir_okay=False),
            help="The volunteers: CSV (UTF-8), .xlsx or .parquet.",
        ),
        click.option(
            "--quotas",
            "quotas_path",
            required=True,
            type=click.Path(path_type=Path, dir_okay=False),
            help="feature,value,min,max (or category,name,... / category,feature,...).",
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
            "one person per household is selected.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _load(
    pool_path: Path,
    quotas_path: Path,
    k: int,
    id_column: str | None,
    household_columns: str | None,
) -> LoadedInput:
    loaded = load_input(pool_path, quotas_path, k, id_column, _split_columns(household_columns))
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    return loaded


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sortition")
def cli() -> None:
    """Draw citizens' assemblies by lot: fair, fast and verifiable."""


@cli.command()
@input_options
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds CP-SAT may spend on each question.",
)
@reports_errors
def check(
    pool_path: Path,
    quotas_path: Path,
    k: int,
    id_column: str | None,
    household_columns: str | None,
    time_limit: float,
) -> None:
    """Decide whether any panel of size k meets every quota; if not, advise how to relax them."""
    loaded = _load(pool_path, quotas_path, k, id_column, household_columns)
    instance = loaded.instance
    click.echo(format_summary(summary_rows(instance), instance.pool.size, k))
    click.echo()
    diagnosis = diagnose(instance, time_limit)
    if diagnosis.feasible:
        rule = " and the household rule" if instance.pool.households is not None else ""
        click.echo(
            f"feasible: a panel of {k} from {instance.pool.size} people meets every quota{rule}."
        )
        return
    raise InfeasibleError([Problem(reason) for reason in diagnosis.reasons], diagnosis.advice())


def _seed_source(seed: str | None) -> SeedSource:
    if seed is not None:
        return SeedSource("seed", seed)
    value = fresh_seed()
    click.echo(f"no --seed given: using a fresh seed from the operating system: {value}")
    return SeedSource("os", value)


@cli.command()
@input_options
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default="legacy", show_default=True)
@click.option("--seed", default=None, help="The seed string every random choice derives from.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder (created; must be empty unless --force).",
)
@click.option("--force", is_flag=True, help="Replace the contents of a non-empty --out folder.")
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="LEGACY: restarts allowed after dead ends.",
)
@reports_errors
def select(
    pool_path: Path,
    quotas_path: Path,
    k: int,
    id_column: str | None,
    household_columns: str | None,
    algorithm: str,
    seed: str | None,
    out: Path,
    force: bool,
    max_attempts: int,
) -> None:
    """Select a panel of size k that meets the quotas, and write it with its record."""
    check_output_dir(out, force)
    loaded = _load(pool_path, quotas_path, k, id_column, household_columns)
    _select_and_write(loaded, algorithm, _seed_source(seed), out, force, max_attempts)


def _select_and_write(
    loaded: LoadedInput,
    algorithm: str,
    seed: SeedSource,
    out: Path,
    force: bool,
    max_attempts: int,
) -> None:
    selection = select_panel(loaded, algorithm, seed, max_attempts)
    paths = write_selection(selection, out, force)
    instance = loaded.instance
    click.echo(
        format_summary(summary_rows(instance, selection.panel), instance.pool.size, instance.k)
    )
    click.echo()
    click.echo(
        f"selected {instance.k} of {instance.pool.size} people with {algorithm.upper()} "
        f"(seed {seed.value!r}, {selection.details.get('attempts', 1)} attempt(s))."
    )
    click.echo("wrote:")
    for path in paths:
        click.echo(f"  {path}")


@cli.command()
@click.option(
    "--out",
    "out",
    default="sortition-demo",
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder.",
)
@click.option("--seed", default=DEMO_SEED, show_default=True)
@click.option("--force", is_flag=True, help="Replace the contents of a non-empty --out folder.")
@reports_errors
def demo(out: Path, seed: str, force: bool) -> None:
    """Select a panel from the bundled example town and write it to --out."""
    check_output_dir(out, force)
    example = resources.files("sortition_data") / "example"
    with resources.as_file(example) as folder:
        pool_path, quotas_path = folder / "pool.csv", folder / "quotas.csv"
        click.echo(f"example pool:   {pool_path}")
        click.echo(f"example quotas: {quotas_path}")
        click.echo(
            f"panel size k = {DEMO_K}, one person per household "
            f"({', '.join(DEMO_HOUSEHOLD_COLUMNS)})"
        )
        click.echo()
        loaded = load_input(pool_path, quotas_path, DEMO_K, None, DEMO_HOUSEHOLD_COLUMNS)
        _select_and_write(loaded, "legacy", SeedSource("seed", seed), out, force, 100)
    click.echo(f"\nthe demo's outputs are in {out.resolve()}/")


@cli.command()
@click.option("--n", "n", required=True, type=click.IntRange(min=1), help="Pool size.")
@click.option("-k", "--k", "k", required=True, type=click.IntRange(min=1), help="Panel size.")
@click.option(
    "--features",
    type=click.IntRange(min=1),
    default=None,
    help="Number of features (value counts 2, 3, 4, 5, 6, 8, 12, ...).",
)
@click.option(
    "--preset",
    type=click.Choice(sorted(PRESETS)),
    default=None,
    help="realistic4 | realistic7 | realistic10 (see data/README.md).",
)
@click.option("--seed", required=True, help="Seed string for the generator.")
@click.option("--households", is_flag=True, help="Add a household column.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, file_okay=False))
@click.option("--force", is_flag=True, help="Replace the contents of a non-empty --out folder.")
@reports_errors
def generate(
    n: int,
    k: int,
    features: int | None,
    preset: str | None,
    seed: str,
    households: bool,
    out: Path,
    force: bool,
) -> None:
    """Generate a realistic synthetic pool (pool.csv) and its quotas (quotas.csv)."""
    check_output_dir(out, force)
    try:
        counts = value_counts_for(features, preset)
        instance = generate_instance(n, k, counts, seed, households)
    except ValueError as error:
        raise InputError(str(error)) from None
    with atomic_output_dir(out, force) as staging:
        write_instance(instance, staging)
    click.echo(
        f"wrote {out / 'pool.csv'} ({n} people, {len(counts)} features) and {out / 'quotas.csv'}"
    )


def main() -> None:
    if os.environ.get("SORTITION_DEBUG"):
        cli()
        return
    try:
        cli()
    except Exception as error:
        click.echo(
            f"internal error: {type(error).__name__}: {error}\n"
            "this is a bug in sortition; set SORTITION_DEBUG=1 to see the traceback",
            err=True,
        )
        sys.exit(70)


if __name__ == "__main__":
    main()
