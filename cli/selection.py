"""Stage-2 commands: `check`, `select`, `commit`, `draw` and `demo`. Thin over the library."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import click
from sortition_cli.examples import epilog
from sortition_cli.i18n import _, command, library_message
from sortition_cli.options import (
    FORCE_HELP,
    AlgorithmArgs,
    InputArgs,
    PrivacyArgs,
    SeedArgs,
    TypesArgs,
    algorithm_options,
    file_option,
    input_options,
    inputs,
    output_options,
    privacy_options,
    pseudonym_key_option,
    seed_options,
    types_options,
)
from sortition_cli.privacy import echo_written
from sortition_cli.progress import ProgressRenderer
from sortition_cli.reporting import reports_errors

import sortition
from sortition.dropouts.service import (
    draw_replacement,
    is_replacement_commitment,
    read_replacement_commitment,
    write_replacement,
)
from sortition.engine.diversity import DIVERSITY_OBJECTIVE
from sortition.engine.legacy import DEFAULT_MAX_ATTEMPTS
from sortition.errors import InputError, Problem
from sortition.io.outputs import check_output_dir, is_output_dir
from sortition.privacy.keys import PseudonymKey, read_key
from sortition.record.build import SeedLike
from sortition.record.types import publish_types_of
from sortition.seeds import seed_from_text
from sortition.selection.service import (
    DEFAULT_GAMMA,
    Commitment,
    LoadedInput,
    draw_selection,
    load_input,
    prepare_commitment,
    write_commitment,
    write_selection,
)
from sortition.selection.summary import format_summary, summary_rows

DEMO_K = 20
DEMO_SEED = "sortition-demo"
DEMO_HOUSEHOLD_COLUMNS = ("address", "postcode")


@command(epilog=epilog("check"))
@input_options
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds the whole check may take; past it, stop with exit 4, nothing decided.",
)
@reports_errors
def check(inputs: InputArgs, time_limit: float) -> None:
    """Decide whether any panel of size k meets every quota; if not, advise how to relax them."""
    loaded = inputs.load()
    instance, k = loaded.instance, inputs.k
    click.echo(format_summary(summary_rows(instance), instance.pool.size, k, library_message))
    click.echo()
    sortition.check(loaded, time_limit=time_limit)  # exit 3 with advice when no panel can
    feasible = (
        _("feasible: a panel of {k} from {n} people meets every quota and the household rule.")
        if instance.pool.households is not None
        else _("feasible: a panel of {k} from {n} people meets every quota.")
    )
    click.echo(feasible.format(k=k, n=instance.pool.size))


@command(epilog=epilog("select"))
@input_options
@privacy_options
@seed_options
@output_options()
@algorithm_options
@types_options
@reports_errors
def select(
    inputs: InputArgs,
    privacy: PrivacyArgs,
    seed_source: SeedArgs,
    out: Path,
    force: bool,
    run: AlgorithmArgs,
    types: TypesArgs,
) -> None:
    """Select a panel of size k that meets the quotas, and write it with its record.

    legacy: the greedy used before 2021. leximin (fairest), maximin, nash: compute a
    distribution over panels that makes selection chances as equal as the quotas allow, then
    draw one panel from it.
    """
    check_output_dir(out, force, inputs.files + privacy.files + seed_source.files)
    loaded = inputs.load(privacy)
    select_and_write(loaded, run, seed_source.resolve(), out, force, types.threshold)


def commit_with_progress(
    loaded: LoadedInput, run: AlgorithmArgs, min_type_size: int | None = None
) -> Commitment:
    """``sortition.commit`` with the options, its progress shown on stderr."""
    progress = ProgressRenderer()
    try:
        return prepare_commitment(
            loaded,
            run.algorithm,
            run.max_attempts,
            by_type=not run.per_person,
            progress=progress,
            time_limit=run.time_limit,
            panels=run.panels,
            gamma=run.gamma,
            min_type_size=min_type_size,
            diversity_within=run.diversity_within,
        )
    finally:
        progress.close()


def select_and_write(
    loaded: LoadedInput,
    run: AlgorithmArgs,
    seed: SeedLike,
    out: Path,
    force: bool,
    min_type_size: int | None = None,
) -> None:
    """select = commit + draw (``sortition.select``), then the summary of what was drawn."""
    algorithm = run.algorithm
    selection = draw_selection(commit_with_progress(loaded, run, min_type_size), seed)
    paths = write_selection(selection, out, force)
    instance = loaded.instance
    n, k = instance.pool.size, instance.k
    click.echo(format_summary(summary_rows(instance, selection.panel), n, k, library_message))
    click.echo()
    if selection.fair is not None:
        probability = selection.fair.person_probability
        stats = selection.fair.distribution.stats
        units = selection.fair.units.n_units
        summary = (
            _(
                "{algorithm} over {panels} panels: selection probability min {min}, max {max}, "
                "k/n {share} ({units} units, {seconds} s)"
            )
            if "seconds" in stats
            else _(
                "{algorithm} over {panels} panels: selection probability min {min}, max {max}, "
                "k/n {share} ({units} units)"
            )
        )
        click.echo(
            summary.format(
                algorithm=algorithm.upper(),
                panels=len(selection.fair.distribution.weights),
                min=f"{probability.min():.6f}",
                max=f"{probability.max():.6f}",
                share=f"{k / n:.6f}",
                units=units,
                seconds=f"{float(stats.get('seconds', 0)):.1f}",
            )
        )
        certificate = selection.fair.distribution.certificate
        if certificate is not None and certificate.objective == DIVERSITY_OBJECTIVE:
            proof = (
                _("optimal (proven)")
                if certificate.certified
                else _("proven lower bound {bound}, gap {gap}").format(
                    bound=f"{certificate.bound:.6g}", gap=f"{certificate.gap:.2%}"
                )
            )
            click.echo(
                _("diversity score {score} (lower is more diverse), {proof}").format(
                    score=f"{certificate.value:.6g}", proof=proof
                )
            )
        price = selection.fair.diversity
        if price is not None:
            click.echo(
                _(
                    "diversity within {within}: every panel scores at most {limit} (the most "
                    "diverse panel {best}, proven bound {bound}); smallest probability {with_} "
                    "with this bound, {without} without"
                ).format(
                    within=f"{price.within:g}",
                    limit=f"{price.limit:.6g}",
                    best=f"{price.best:.6g}",
                    bound=f"{price.best_bound:.6g}",
                    with_=f"{price.smallest_with:.6f}",
                    without=f"{price.smallest_without:.6f}",
                )
            )
        lottery = selection.record.get("lottery")
        if lottery is not None:
            m, others = lottery["m"], lottery["m"] - lottery["distribution_panels"]
            click.echo(
                _(
                    "uniform lottery over {m} panels ({method}): largest change of a person's "
                    "probability {change} (lower bound {bound})"
                ).format(
                    m=m,
                    method=lottery["method"],
                    change=f"{lottery['max_change']:.6f}",
                    bound=f"{lottery['lower_bound']:.6f}",
                )
            )
            if others:
                click.echo(
                    _(
                        "{others} of the {m} panels are feasible panels other than the "
                        "distribution's: they bring people closer to their probability"
                    ).format(others=others, m=m)
                )
        never = [instance.pool.ids[i] for i in selection.fair.never_selectable]
        if never:
            shown = ", ".join(never[:20]) + (" ..." if len(never) > 20 else "")
            click.echo(
                _("{count} people are on no feasible panel (probability 0): {ids}").format(
                    count=len(never), ids=shown
                )
            )
        echo_withheld(selection.record)
        click.echo(
            _("drew panel {number} of {of} with seed {seed}.").format(
                number=selection.draw.panel_number, of=selection.draw.of, seed=repr(seed.value)
            )
        )
    else:
        click.echo(
            _(
                "selected {k} of {n} people with LEGACY (seed {seed}, {attempts} attempt(s))."
            ).format(k=k, n=n, seed=repr(seed.value), attempts=selection.draw.attempts)
        )
    echo_written(paths)


def echo_withheld(document: dict[str, Any]) -> None:
    """With --publish-types: how many types and people the published files withhold."""
    summary = publish_types_of(document)
    if summary is None:
        return
    people = document["inputs"]["pool"]["people"]
    withheld = summary["withheld_people"]
    click.echo(
        _(
            "published as {types} types: {withheld_types} types of fewer than {size} people "
            "withheld ({withheld} of {people} volunteers, {share} %); they appear as "
            "withheld:type:position"
        ).format(
            types=summary["types"],
            withheld_types=summary["withheld_types"],
            size=summary["min_type_size"],
            withheld=withheld,
            people=people,
            share=f"{100 * withheld / people:.1f}",
        )
    )


@command(epilog=epilog("commit"))
@input_options
@privacy_options
@output_options("Output folder for commitment.json (created; must be empty unless --force).")
@algorithm_options
@types_options
@reports_errors
def commit(
    inputs: InputArgs,
    privacy: PrivacyArgs,
    out: Path,
    force: bool,
    run: AlgorithmArgs,
    types: TypesArgs,
) -> None:
    """Fix everything but the seed, and print the SHA-256 to publish before the seed exists.

    Writes DIR/commitment.json: the record without seed and panel (for the fair algorithms, the
    distribution the panel will be drawn from). Then `sortition draw` draws with the seed.
    """
    check_output_dir(out, force, inputs.files + privacy.files)
    commitment = commit_with_progress(inputs.load(privacy), run, types.threshold)
    echo_withheld(commitment.document)
    path = write_commitment(commitment, out, force)
    others = sorted(p for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))
    echo_written([path, *(p for p in others if p != path)])
    click.echo(_("publish this SHA-256 of commitment.json before the seed exists:"))
    click.echo(commitment.sha256)


@command(epilog=epilog("draw"))
@file_option(
    "--commitment",
    "commitment_path",
    "The commitment.json that `sortition commit` (or `sortition replace --commit-only`) wrote.",
    required=True,
)
@seed_options
@file_option("--pool", "pool_path", "The pool file, to also write selected.csv and remaining.csv.")
@pseudonym_key_option
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
    seed_source: SeedArgs,
    pool_path: Path | None,
    pseudonym_key: Path | None,
    expect: str | None,
    out: Path,
    force: bool,
) -> None:
    """Draw the panel from a published commitment with the seed, and write the record.

    The seed must come from a source announced in advance (--dice, --beacon, --reveal, or
    --seed); the commitment must be exactly what `sortition commit` wrote and hold together,
    and with --expect hash to the published SHA-256.

    A replacement draw's commitment (`sortition replace --commit-only`) is drawn the same way:
    the result is what `sortition replace` writes with that seed (replacement.json, and with
    --pool selected.csv, remaining.csv and probabilities.csv).
    """
    check_output_dir(
        out, force, inputs(commitment_path, pool_path, pseudonym_key) + seed_source.files
    )
    if pseudonym_key is not None and pool_path is None:
        raise InputError(
            [Problem(_("--pseudonym-key reads the pool file again: give it with --pool"))]
        )
    key = None if pseudonym_key is None else read_key(pseudonym_key)
    source = seed_source.resolve(allow_os=False)
    if is_replacement_commitment(commitment_path):
        _draw_replacement(commitment_path, source, pool_path, key, expect, out, force)
        return
    result = sortition.draw_committed(commitment_path, source, pool_path, expect, key)
    paths = sortition.write_committed_draw(result, out, force=force)
    number = result.draw.panel_number
    drew = (
        _("drew {people} people (panel {number} of {of}) with seed {seed}.")
        if number is not None
        else _("drew {people} people with seed {seed}.")
    )
    click.echo(
        drew.format(
            people=len(result.draw.panel), number=number, of=result.draw.of, seed=repr(source.value)
        )
    )
    echo_commitment_sha(result.record["commitment"]["sha256"], expect)
    echo_written(paths)


def echo_commitment_sha(sha: str, expect: str | None) -> None:
    """The drawn commitment's SHA-256: as published (``--expect`` checked it), or to compare."""
    if expect is None:
        click.echo(
            _(
                "commitment SHA-256: {sha} (no --expect given: compare it with the published one)"
            ).format(sha=sha)
        )
    else:
        click.echo(_("commitment SHA-256: {sha}, as published").format(sha=sha))


def _draw_replacement(
    commitment_path: Path,
    source: SeedLike,
    pool_path: Path | None,
    key: PseudonymKey | None,
    expect: str | None,
    out: Path,
    force: bool,
) -> None:
    """draw with a replacement draw's commitment: what `replace` writes with the same seed."""
    commitment = read_replacement_commitment(commitment_path, expect, pool_path, key)
    replacement = draw_replacement(commitment, source)
    paths = write_replacement(replacement, out, force)
    click.echo(
        _("round {round}: drew {people} replacements with seed {seed}.").format(
            round=commitment.basis.state.round,
            people=len(replacement.replacements),
            seed=repr(source.value),
        )
    )
    echo_commitment_sha(replacement.record["commitment"]["sha256"], expect)
    click.echo(_("replacements: {ids}").format(ids=", ".join(replacement.replacements)))
    echo_written(paths)


@command(epilog=epilog("demo"))
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
        click.echo(_("example pool:   {file}").format(file=pool_path))
        click.echo(_("example quotas: {file}").format(file=quotas_path))
        click.echo(
            _("panel size k = {k}, one person per household ({columns})").format(
                k=DEMO_K, columns=", ".join(DEMO_HOUSEHOLD_COLUMNS)
            )
        )
        click.echo()
        loaded = load_input(pool_path, quotas_path, DEMO_K, None, DEMO_HOUSEHOLD_COLUMNS)
        run = AlgorithmArgs(
            "leximin", DEFAULT_MAX_ATTEMPTS, None, None, per_person=False, gamma=DEFAULT_GAMMA
        )
        select_and_write(loaded, run, seed_from_text(seed), out, force)
    click.echo()
    click.echo(_("the demo's outputs are in {folder}/").format(folder=out.resolve()))
