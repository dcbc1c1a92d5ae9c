"""`sortition audit`: every volunteer's selection probability under several algorithms, with a
report (sortition.audit.service, sortition.audit.report)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from sortition_cli.examples import epilog
from sortition_cli.i18n import _, command
from sortition_cli.options import (
    InputArgs,
    PrivacyArgs,
    SeedArgs,
    gamma_option,
    input_options,
    output_options,
    privacy_options,
    seed_options,
    time_limit_option,
)
from sortition_cli.privacy import echo_written
from sortition_cli.progress import ProgressRenderer
from sortition_cli.reporting import reports_errors

from sortition.audit.service import (
    DEFAULT_ALGORITHMS,
    DEFAULT_DRAWS,
    parse_algorithms,
    run_audit,
    write_audit,
)
from sortition.errors import Problem, TimeLimitError
from sortition.io.outputs import check_output_dir


@command(epilog=epilog("audit"))
@input_options
@privacy_options
@click.option(
    "--algorithms",
    default=",".join(DEFAULT_ALGORITHMS),
    show_default=True,
    help="Comma-separated: legacy (sampled), leximin, maximin, nash, goldilocks, diversimax "
    "(exact). NASH, GOLDILOCKS and DIVERSIMAX are run only when asked for.",
)
@gamma_option()
@seed_options
@click.option(
    "--draws",
    type=click.IntRange(min=1),
    default=DEFAULT_DRAWS,
    show_default=True,
    help="Panels drawn in each of the two samples that estimate a sampler's probabilities.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes drawing the samples (default: all cores); the result does not depend on it.",
)
@time_limit_option(
    "Seconds each fair algorithm may run. One that runs out of time is named and left out; the "
    "others are written, and the exit code is 4."
)
@output_options()
@reports_errors
def audit(
    inputs: InputArgs,
    privacy: PrivacyArgs,
    algorithms: str,
    seed_source: SeedArgs,
    draws: int,
    workers: int | None,
    gamma: float,
    time_limit: float | None,
    out: Path,
    force: bool,
) -> None:
    """Compare how fair the algorithms are: every volunteer's selection probability, metrics and a
    report.

    Writes DIR/metrics.json, inputs.json, probabilities.csv, probabilities.png, quotas.png and
    report.html (one self-contained file). LEGACY's probabilities are estimated from --draws seeded
    draws (twice: the second sample bounds the smallest probability); the others are exact. A fair
    algorithm that runs past --time-limit is named and left out (exit 4, the rest written).
    """
    names = parse_algorithms(algorithms)
    check_output_dir(out, force, inputs.files + privacy.files + seed_source.files)
    loaded = inputs.load(privacy)
    source = seed_source.resolve()
    progress = ProgressRenderer()
    try:
        result = run_audit(
            loaded,
            names,
            source.value,
            draws=draws,
            workers=workers or os.cpu_count() or 1,
            time_limit=time_limit,
            progress=progress,
            gamma=gamma,
        )
    finally:
        progress.close()
    paths = write_audit(result, out, draws, force)
    n, k = loaded.instance.pool.size, loaded.instance.k
    click.echo(
        _("selection probabilities of {n} volunteers, panel of {k} (k/n {share}):").format(
            n=n, k=k, share=f"{k / n:.6f}"
        )
    )
    for item in result.results:
        p = item.probability
        figures = {"min": f"{p.min():.6f}", "max": f"{p.max():.6f}"}
        line = (
            _("min {min}, max {max}, 99% upper bound on the smallest {bound} ({draws} draws)")
            if item.min_upper_99 is not None
            else _("min {min}, max {max}")
        )
        bound = f"{item.min_upper_99 or 0:.6f}"
        click.echo(
            f"  {item.algorithm.upper():8} " + line.format(**figures, bound=bound, draws=item.draws)
        )
    for stopped in result.timed_out:
        click.echo(f"  {stopped.algorithm.upper():8} " + _("did not finish: left out"))
    echo_written(paths, private=())
    if result.timed_out:
        raise TimeLimitError(
            [Problem(t.message) for t in result.timed_out]
            + [
                Problem(
                    _("the other algorithms' results were written to {folder}").format(folder=out)
                )
            ]
        )
