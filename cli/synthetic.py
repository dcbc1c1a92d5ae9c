"""`generate` (a synthetic pool and quotas) and `generate-registry` (a synthetic registry)."""

from __future__ import annotations

from pathlib import Path

import click
from sortition_cli.examples import epilog
from sortition_cli.i18n import _, command
from sortition_cli.options import output_options
from sortition_cli.reporting import reports_errors

from sortition.io.outputs import atomic_output_dir, check_output_dir
from sortition.synthetic.pools import PRESETS, generate_instance, value_counts_for, write_instance
from sortition.synthetic.registries import (
    REGISTRY_FORMATS,
    generate_registry,
    write_registry_folder,
)


@command(epilog=epilog("generate"))
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
@output_options()
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
    counts = value_counts_for(features, preset)
    instance = generate_instance(n, k, counts, seed, households)
    with atomic_output_dir(out, force) as staging:
        write_instance(instance, staging)
    click.echo(
        _("wrote {pool} ({n} people, {features} features) and {quotas}").format(
            pool=out / "pool.csv", n=n, features=len(counts), quotas=out / "quotas.csv"
        )
    )


@command("generate-registry", epilog=epilog("generate-registry"))
@click.option("--rows", required=True, type=click.IntRange(min=1), help="People in the registry.")
@click.option(
    "--strata",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="Areas (the 'area' column), of skewed sizes.",
)
@click.option("--seed", required=True, help="Seed string for the generator.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REGISTRY_FORMATS),
    default="csv",
    show_default=True,
    help="Write registry.csv or registry.parquet.",
)
@output_options()
@reports_errors
def generate_registry_command(
    rows: int, strata: int, seed: str, fmt: str, out: Path, force: bool
) -> None:
    """Write a synthetic registry (id, address, postcode, area, age) with households of 1–6
    people and areas of skewed sizes, as DIR/registry.csv or DIR/registry.parquet."""
    check_output_dir(out, force)
    path = write_registry_folder(generate_registry(rows, strata, seed), out, fmt, force)
    click.echo(
        _("wrote {file} ({rows} rows, {strata} areas)").format(file=path, rows=rows, strata=strata)
    )
