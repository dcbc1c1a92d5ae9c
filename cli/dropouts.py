"""Dropout commands: `replace`. Thin over the library (sortition.dropouts)."""

from __future__ import annotations

from pathlib import Path

import click
from sortition_cli.examples import epilog
from sortition_cli.options import (
    AlgorithmArgs,
    SeedArgs,
    algorithm_options,
    file_option,
    inputs,
    output_options,
    seed_options,
)
from sortition_cli.progress import ProgressRenderer
from sortition_cli.reporting import reports_errors

from sortition.dropouts.ids import IdList, read_id_file, typed_ids
from sortition.dropouts.service import replace_dropouts, write_replacement
from sortition.io.outputs import check_output_dir


@click.command(epilog=epilog("replace"))
@file_option(
    "--record",
    "record_path",
    "The panel's record.json (from select or draw), or the replacement.json of an earlier round.",
    required=True,
)
@file_option(
    "--pool",
    "pool_path",
    "The pool file the panel was drawn from (checked against the record's digest).",
    required=True,
)
@file_option(
    "--dropouts",
    "dropouts_path",
    "The members who dropped out: one id per line (blank lines and # comments ignored).",
)
@click.option(
    "--dropout",
    "dropout_ids",
    multiple=True,
    metavar="ID",
    help="A member who dropped out (repeat for each; adds to --dropouts).",
)
@file_option(
    "--unavailable",
    "unavailable_path",
    "People already asked who declined: one id per line; they are not drawn.",
)
@seed_options
@output_options()
@algorithm_options
@reports_errors
def replace(
    record_path: Path,
    pool_path: Path,
    dropouts_path: Path | None,
    dropout_ids: tuple[str, ...],
    unavailable_path: Path | None,
    seed_source: SeedArgs,
    out: Path,
    force: bool,
    run: AlgorithmArgs,
) -> None:
    """Draw replacements for members who dropped out, and record them as the next link of the
    panel's chain of records.

    The candidates are the pool minus the panel, the dropouts, the unavailable and the households
    of the members who stay; the quotas are derived (each value's min and max minus the members
    who stay), and the replacements are drawn with the algorithm, LEXIMIN by default.
    """
    check_output_dir(out, force, inputs(record_path, pool_path, dropouts_path, unavailable_path))
    dropouts = IdList()
    if dropouts_path is not None:
        dropouts = read_id_file(dropouts_path)
    dropouts = dropouts + typed_ids(dropout_ids)
    unavailable = IdList() if unavailable_path is None else read_id_file(unavailable_path)
    seed = seed_source.resolve()
    progress = ProgressRenderer()
    try:
        replacement = replace_dropouts(
            record_path,
            pool_path,
            dropouts,
            seed,
            unavailable,
            algorithm=run.algorithm,
            max_attempts=run.max_attempts,
            panels=run.panels,
            by_type=not run.per_person,
            progress=progress,
            time_limit=run.time_limit,
        )
    finally:
        progress.close()
    paths = write_replacement(replacement, out, force)
    basis = replacement.basis
    instance = basis.instance
    click.echo(
        f"round {basis.state.round}: {instance.k} dropout{'' if instance.k == 1 else 's'}, "
        f"{len(basis.stayers)} members stay, {instance.pool.size} candidates"
    )
    binding = [
        f"{q.feature} {q.value} {q.min}-{q.max}"
        for q in instance.quotas.rows
        if q.min > 0 or q.max < instance.k
    ]
    click.echo(
        f"derived quotas that bind the {instance.k} replacements: "
        + (", ".join(binding) if binding else "none")
    )
    if replacement.fair is not None:
        probability = replacement.fair.person_probability
        zero = int((probability <= 1e-12).sum())
        click.echo(
            f"{run.algorithm.upper()}: each candidate's chance of being drawn: min "
            f"{probability.min():.6f}, max {probability.max():.6f}"
            + (f"; {zero} candidates fit no set that meets the derived quotas" if zero else "")
        )
    click.echo(f"replacements: {', '.join(replacement.replacements)} (seed {seed.value!r})")
    click.echo("wrote:")
    for path in paths:
        click.echo(f"  {path}")
