"""The `sortition` command: parse arguments, call the library, print. No logic lives here."""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click
from sortition_cli.examples import epilog

from sortition import __version__
from sortition.cancel import Interrupted
from sortition.errors import InfeasibleError, InputError, Problem, SortitionError
from sortition.io.outputs import atomic_output_dir, check_output_dir, is_output_dir
from sortition.record.build import SeedLike
from sortition.seeds import Seed, resolve_seed, seed_from_text
from sortition.selection.feasibility import diagnose
from sortition.selection.service import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    LoadedInput,
    draw_committed,
    load_input,
    prepare_commitment,
    select_panel,
    write_commitment,
    write_committed_draw,
    write_selection,
)
from sortition.selection.summary import format_summary, summary_rows
from sortition.synthetic.pools import PRESETS, generate_instance, value_counts_for, write_instance
from sortition.verify.service import verify_record

F = TypeVar("F", bound=Callable[..., Any])

INTERRUPTED = "interrupted; nothing was written"
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
            click.echo(f"error ({error.heading}):", err=True)
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)
            if isinstance(error, InfeasibleError) and error.advice:
                click.echo("advice (smallest change that makes a panel possible):", err=True)
                for line in error.advice:
                    click.echo(f"  {line}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt as interrupt:
            click.echo(INTERRUPTED, err=True)
            sys.exit(getattr(interrupt, "exit_code", Interrupted.exit_code))

    return wrapper  # type: ignore[return-value]


def _split_columns(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


allow_empty_household_option = click.option(
    "--allow-empty-household",
    is_flag=True,
    help="Count each person with an empty household cell as a household of their own (the "
    "record notes it); without it an empty household cell is an error.",
)


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


def _load(
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
        _split_columns(household_columns),
        allow_empty_household,
    )
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    return loaded


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sortition")
def cli() -> None:
    """Draw citizens' assemblies by lot: fair, fast and verifiable."""


@cli.command(epilog=epilog("check"))
@input_options
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds the whole check may take; past it, stop with exit 4, nothing decided.",
)
@reports_errors
def check(
    pool_path: Path,
    quotas_path: Path,
    k: int,
    id_column: str | None,
    household_columns: str | None,
    allow_empty_household: bool,
    time_limit: float,
) -> None:
    """Decide whether any panel of size k meets every quota; if not, advise how to relax them."""
    loaded = _load(pool_path, quotas_path, k, id_column, household_columns, allow_empty_household)
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


def _resolve_seed(
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


@cli.command(epilog=epilog("select"))
@input_options
@seed_options
@output_options()
@algorithm_options
@reports_errors
def select(
    pool_path: Path,
    quotas_path: Path,
    k: int,
    id_column: str | None,
    household_columns: str | None,
    allow_empty_household: bool,
    algorithm: str,
    seed: str | None,
    beacon: Path | None,
    dice: str | None,
    reveals: tuple[str, ...],
    commitments: Path | None,
    allow_missing: bool,
    out: Path,
    force: bool,
    max_attempts: int,
    time_limit: float | None,
    panels: int | None,
    per_person: bool,
) -> None:
    """Select a panel of size k that meets the quotas, and write it with its record.

    legacy: the greedy used before 2021. leximin (fairest), maximin, nash: compute a
    distribution over panels that makes selection chances as equal as the quotas allow, then
    draw one panel from it.
    """
    check_output_dir(out, force, inputs(pool_path, quotas_path, beacon, commitments))
    loaded = _load(pool_path, quotas_path, k, id_column, household_columns, allow_empty_household)
    options = SelectOptions(max_attempts, time_limit, not per_person, panels)
    source = _resolve_seed(seed, beacon, dice, reveals, commitments, allow_missing)
    _select_and_write(loaded, algorithm, source, out, force, options)


@dataclass(frozen=True)
class SelectOptions:
    max_attempts: int = 100
    time_limit: float | None = None
    by_type: bool = True
    panels: int | None = None


class ProgressPrinter:
    """Column-generation progress on stderr: one line rewritten in place on a terminal, a line
    every few seconds otherwise."""

    def __init__(self, algorithm: str, interval: float = 5.0) -> None:
        self.algorithm = algorithm.upper()
        self.interactive = sys.stderr.isatty()
        self.interval = interval
        self.started = time.monotonic()
        self.last = 0.0
        self.printed = False

    def __call__(self, state: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self.last < (0.2 if self.interactive else self.interval):
            return
        self.last = now
        keys = ("walk", "panels", "round", "level", "columns", "fixed")
        parts = [f"{key} {state[key]}" for key in keys if key in state]
        if "z" in state:
            parts.append(f"min {float(state['z']):.6f}")
        if "target" in state:
            parts.append(f"{100 * float(state['target']):.4f} % of the relaxation's vector")
        line = f"{self.algorithm}: {', '.join(parts)} ({now - self.started:.0f} s)"
        if self.interactive:
            click.echo("\r" + line.ljust(78), nl=False, err=True)
            self.printed = True
        else:
            click.echo(line, err=True)

    def close(self) -> None:
        if self.printed:
            click.echo(err=True)


def _select_and_write(
    loaded: LoadedInput,
    algorithm: str,
    seed: SeedLike,
    out: Path,
    force: bool,
    options: SelectOptions,
) -> None:
    progress = ProgressPrinter(algorithm)
    try:
        selection = select_panel(
            loaded,
            algorithm,
            seed,
            options.max_attempts,
            by_type=options.by_type,
            progress=progress,
            time_limit=options.time_limit,
            panels=options.panels,
        )
    finally:
        progress.close()
    paths = write_selection(selection, out, force)
    instance = loaded.instance
    n, k = instance.pool.size, instance.k
    click.echo(format_summary(summary_rows(instance, selection.panel), n, k))
    click.echo()
    if selection.fair is not None:
        probability = selection.fair.person_probability
        stats = selection.fair.distribution.stats
        seconds = f", {float(stats['seconds']):.1f} s" if "seconds" in stats else ""
        click.echo(
            f"{algorithm.upper()} over {len(selection.fair.distribution.weights)} panels: "
            "selection "
            f"probability min {probability.min():.6f}, max {probability.max():.6f}, "
            f"k/n {k / n:.6f} ({selection.fair.units.n_units} units{seconds})"
        )
        lottery = selection.record.get("lottery")
        if lottery is not None:
            m, others = lottery["m"], lottery["m"] - lottery["distribution_panels"]
            click.echo(
                f"uniform lottery over {m} panels ({lottery['method']}): largest change of a "
                f"person's probability {lottery['max_change']:.6f} (lower bound "
                f"{lottery['lower_bound']:.6f})"
            )
            if others:
                click.echo(
                    f"{others} of the {m} panels are feasible panels other than the "
                    "distribution's: they bring people closer to their probability"
                )
        never = [instance.pool.ids[i] for i in selection.fair.never_selectable]
        if never:
            shown = ", ".join(never[:20]) + (" ..." if len(never) > 20 else "")
            click.echo(f"{len(never)} people are on no feasible panel (probability 0): {shown}")
        click.echo(
            f"drew panel {selection.draw.panel_number} of {selection.draw.of} "
            f"with seed {seed.value!r}."
        )
    else:
        click.echo(
            f"selected {k} of {n} people with LEGACY "
            f"(seed {seed.value!r}, {selection.draw.attempts} attempt(s))."
        )
    click.echo("wrote:")
    for path in paths:
        click.echo(f"  {path}")


@cli.command(epilog=epilog("commit"))
@input_options
@output_options("Output folder for commitment.json (created; must be empty unless --force).")
@algorithm_options
@reports_errors
def commit(
    pool_path: Path,
    quotas_path: Path,
    k: int,
    id_column: str | None,
    household_columns: str | None,
    allow_empty_household: bool,
    algorithm: str,
    out: Path,
    force: bool,
    max_attempts: int,
    time_limit: float | None,
    panels: int | None,
    per_person: bool,
) -> None:
    """Fix everything but the seed, and print the SHA-256 to publish before the seed exists.

    Writes DIR/commitment.json: the record without seed and panel (for the fair algorithms, the
    distribution the panel will be drawn from). Then `sortition draw` draws with the seed.
    """
    check_output_dir(out, force, inputs(pool_path, quotas_path))
    loaded = _load(pool_path, quotas_path, k, id_column, household_columns, allow_empty_household)
    progress = ProgressPrinter(algorithm)
    try:
        commitment = prepare_commitment(
            loaded,
            algorithm,
            max_attempts,
            by_type=not per_person,
            progress=progress,
            time_limit=time_limit,
            panels=panels,
        )
    finally:
        progress.close()
    path = write_commitment(commitment, out, force)
    click.echo(f"wrote {path}")
    click.echo("publish this SHA-256 of it before the seed exists:")
    click.echo(commitment.sha256)


@cli.command(epilog=epilog("draw"))
@click.option(
    "--commitment",
    "commitment_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The commitment.json that `sortition commit` wrote.",
)
@seed_options
@click.option(
    "--pool",
    "pool_path",
    default=None,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The pool file, to also write selected.csv and remaining.csv.",
)
@click.option(
    "--expect",
    default=None,
    metavar="SHA256",
    help="The commitment's SHA-256 as published before the seed existed: the draw is refused "
    "unless commitment.json hashes to it.",
)
@output_options()
@reports_errors
def draw(
    commitment_path: Path,
    seed: str | None,
    beacon: Path | None,
    dice: str | None,
    reveals: tuple[str, ...],
    commitments: Path | None,
    allow_missing: bool,
    pool_path: Path | None,
    expect: str | None,
    out: Path,
    force: bool,
) -> None:
    """Draw the panel from a published commitment with the seed, and write the record.

    The seed must come from a source announced in advance (--dice, --beacon, --reveal, or
    --seed); the commitment must be exactly what `sortition commit` wrote and hold together,
    and with --expect hash to the published SHA-256.
    """
    check_output_dir(out, force, inputs(commitment_path, pool_path, beacon, commitments))
    source = _resolve_seed(seed, beacon, dice, reveals, commitments, allow_missing, allow_os=False)
    result = draw_committed(commitment_path, source, pool_path, expect)
    paths = write_committed_draw(result, out, force)
    number = result.draw.panel_number
    where = f" (panel {number} of {result.draw.of})" if number is not None else ""
    click.echo(f"drew {len(result.draw.panel)} people{where} with seed {source.value!r}.")
    sha = result.record["commitment"]["sha256"]
    if expect is None:
        click.echo(
            f"commitment SHA-256: {sha} (no --expect given: compare it with the published one)"
        )
    else:
        click.echo(f"commitment SHA-256: {sha}, as published")
    click.echo("wrote:")
    for path in paths:
        click.echo(f"  {path}")


@cli.command(epilog=epilog("verify"))
@click.argument("record_path", metavar="RECORD", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--pool",
    "pool_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The pool file, to check against the record's digest.",
)
@click.option(
    "--quotas",
    "quotas_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The quota file, to check against the record's digest.",
)
@click.option(
    "--recompute",
    is_flag=True,
    help="Re-run the algorithm and compare every probability (within 1e-6).",
)
@click.option(
    "--registry",
    "registry_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="An invitation record's registry file, to re-derive every invitation (required for "
    "an invitation record).",
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
    expect: str | None,
) -> None:
    """Check a published record: digests, the draw from the seed, quotas and households.

    Prints one line per item; exits 0 when every item matches, 1 when one does not.
    """
    report = verify_record(
        record_path,
        pool_path,
        quotas_path,
        recompute=recompute,
        registry_path=registry_path,
        expect=expect,
    )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for item in report.items:
        click.echo(f"[{'ok' if item.ok else 'MISMATCH'}] {item.name}: {item.detail}")
    failed = [item.name for item in report.items if not item.ok]
    if failed:
        click.echo(
            f"\n{len(failed)} of {len(report.items)} items do not match: {', '.join(failed)}"
        )
        sys.exit(1)
    click.echo(f"\nall {len(report.items)} items match.")


@cli.command(epilog=epilog("demo"))
@click.option(
    "--out",
    "out",
    default="sortition-demo",
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder.",
)
@click.option(
    "--seed",
    default=DEMO_SEED,
    show_default=True,
    help="The seed string of the draw (the same seed gives the same panel).",
)
@click.option("--force", is_flag=True, help=FORCE_HELP)
@reports_errors
def demo(out: Path, seed: str, force: bool) -> None:
    """Select a panel from the bundled example town with LEXIMIN and write it to --out.

    Running it again replaces the demo's own earlier output (never a folder holding anything
    else).
    """
    force = force or is_output_dir(out)
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
        _select_and_write(loaded, "leximin", seed_from_text(seed), out, force, SelectOptions())
    click.echo(f"\nthe demo's outputs are in {out.resolve()}/")


@cli.command(epilog=epilog("generate"))
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


# The command modules import this one's helpers, so they are registered last.
from sortition_cli.audit import audit  # noqa: E402
from sortition_cli.invite import COMMANDS as STAGE1_COMMANDS  # noqa: E402

cli.add_command(audit)
for _command in STAGE1_COMMANDS:
    cli.add_command(_command)


def run() -> None:
    """The commands, with any error the library did not foresee reported as a bug (exit 70)."""
    if os.environ.get("SORTITION_DEBUG"):
        cli()
        return
    try:
        cli()
    except KeyboardInterrupt as interrupt:  # outside a command: while click parses, say
        click.echo(INTERRUPTED, err=True)
        sys.exit(getattr(interrupt, "exit_code", Interrupted.exit_code))
    except Exception as error:
        click.echo(
            f"internal error: {type(error).__name__}: {error}\n"
            "this is a bug in sortition; set SORTITION_DEBUG=1 to see the traceback",
            err=True,
        )
        sys.exit(70)


def main() -> None:
    """The console script's entry (``sortition_cli.entry.main``): signal handling, then ``run``."""
    from sortition_cli.entry import main as entry

    entry()


if __name__ == "__main__":
    main()
