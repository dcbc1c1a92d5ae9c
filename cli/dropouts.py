"""Dropout commands: `replace` and `alternates`. Thin over the library (sortition.dropouts)."""

from __future__ import annotations

from pathlib import Path

import click
from sortition_cli.examples import epilog
from sortition_cli.i18n import _, command, ngettext
from sortition_cli.options import (
    AlgorithmArgs,
    PrivacyArgs,
    SeedArgs,
    algorithm_options_with,
    file_option,
    inputs,
    output_options,
    privacy_options,
    seed_options,
)
from sortition_cli.privacy import PRIVATE_FILES, echo_written
from sortition_cli.progress import ProgressRenderer
from sortition_cli.reporting import reports_errors

from sortition.dropouts.alternates_service import choose_alternates, panel_quotas, write_alternates
from sortition.dropouts.ids import IdList, read_id_file, typed_ids
from sortition.dropouts.models import fit_product_model, per_value_model, uniform_model
from sortition.dropouts.service import (
    commit_replacement,
    replace_dropouts,
    write_replacement,
    write_replacement_commitment,
)
from sortition.io.outputs import check_output_dir
from sortition.record.replacement import ReplacementBasis

# What replace's --time-limit bounds (sortition.dropouts.service.replace_dropouts): first the
# search for a replacement set that meets the derived quotas (require_replaceable: feasibility,
# and the smallest change of the quotas when none does), then the draw (prepare_commitment: its
# own check and the fair algorithms); the alternates' best subset takes no time limit.
REPLACE_TIME_LIMIT_HELP = (
    "Seconds the search for a set of replacements that meets the derived quotas may take (60 "
    "without this option): past it, exit 4 when it is not decided whether one exists, or exit 3 "
    "with advice when none exists and the smallest change of the quotas was not found in time. "
    "The same limit then bounds the draw of the replacements (the fair algorithms, as in "
    "select). Not used with --from-alternates."
)


@command(epilog=epilog("replace"))
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
    "The members who dropped out: one id per line (blank lines and # comments ignored), as the "
    "pool file holds it (or the record's pseudonym).",
)
@click.option(
    "--dropout",
    "dropout_ids",
    multiple=True,
    metavar="ID",
    help="A member who dropped out, by the pool file's id or the record's pseudonym (repeat for "
    "each; adds to --dropouts).",
)
@file_option(
    "--unavailable",
    "unavailable_path",
    "People already asked who declined: one id per line; they are not drawn.",
)
@click.option(
    "--from-alternates",
    "alternates_dir",
    default=None,
    type=click.Path(path_type=Path, file_okay=False),
    help="The folder `sortition alternates` wrote for this panel: the replacements are then the "
    "best subset of those alternates (exact; no seed).",
)
@click.option(
    "--commit-only",
    is_flag=True,
    help="Fix everything but the seed: write commitment.json (the round, the record it builds "
    "on, the dropouts, the unavailable, the candidates, the derived quotas and the draw's "
    "distribution) and print its SHA-256 to publish before the seed exists; then `sortition draw "
    "--commitment` draws with the seed. Takes no seed.",
)
@seed_options
@privacy_options
@output_options()
@algorithm_options_with(REPLACE_TIME_LIMIT_HELP)
@reports_errors
def replace(
    record_path: Path,
    pool_path: Path,
    dropouts_path: Path | None,
    dropout_ids: tuple[str, ...],
    unavailable_path: Path | None,
    alternates_dir: Path | None,
    commit_only: bool,
    seed_source: SeedArgs,
    privacy: PrivacyArgs,
    out: Path,
    force: bool,
    run: AlgorithmArgs,
) -> None:
    """Draw replacements for members who dropped out, and record them as the next link of the
    panel's chain of records.

    The candidates are the pool minus the panel, the dropouts, the unavailable and the households
    of the members who stay; the quotas are derived (each value's min and max minus the members
    who stay), and the replacements are drawn with the algorithm, LEXIMIN by default.

    When the panel's record names people by keyed pseudonyms, give the key it was made with
    (--pseudonym-key): the dropouts and unavailable people are then given by the pool file's ids
    (or by their pseudonyms), and replacement.json names everyone by pseudonym.

    With --commit-only, replace draws nothing: it writes commitment.json and prints the SHA-256
    to publish before the seed exists, as `sortition commit` does for a panel.
    """
    check_output_dir(
        out,
        force,
        inputs(record_path, pool_path, dropouts_path, unavailable_path)
        + privacy.files
        + seed_source.files,
    )
    dropouts = IdList()
    if dropouts_path is not None:
        dropouts = read_id_file(dropouts_path)
    dropouts = dropouts + typed_ids(dropout_ids)
    unavailable = IdList() if unavailable_path is None else read_id_file(unavailable_path)
    seeded = bool(seed_source.seed or seed_source.beacon or seed_source.dice or seed_source.reveals)
    if commit_only:
        _commit_only(
            record_path,
            pool_path,
            dropouts,
            unavailable,
            alternates_dir,
            seeded,
            privacy,
            out,
            force,
            run,
        )
        return
    seed = None
    if alternates_dir is None:
        seed = seed_source.resolve()
    elif seeded:
        raise click.UsageError(_("--from-alternates takes no seed: the best subset is exact"))
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
            from_alternates=alternates_dir,
            pseudonym_key=privacy.key(),
            ids_are_public=privacy.ids_are_public,
        )
    finally:
        progress.close()
    paths = write_replacement(replacement, out, force)
    _echo_round(replacement.basis)
    if replacement.fair is not None:
        probability = replacement.fair.person_probability
        zero = int((probability <= 1e-12).sum())
        chances = _("{algorithm}: each candidate's chance of being drawn: min {min}, max {max}")
        click.echo(
            chances.format(
                algorithm=run.algorithm.upper(),
                min=f"{probability.min():.6f}",
                max=f"{probability.max():.6f}",
            )
            + (
                _("; {zero} candidates fit no set that meets the derived quotas").format(zero=zero)
                if zero
                else ""
            )
        )
    how = (
        _("seed {seed}").format(seed=repr(seed.value))
        if seed is not None
        else _("best subset of the alternates, deviation {deviation}").format(
            deviation=replacement.record["draw"]["deviation"]
        )
    )
    if replacement.pool_file is not None and replacement.pool_file.pseudonyms is not None:
        how = _("by pseudonym, {how}").format(how=how)
    click.echo(
        _("replacements: {ids} ({how})").format(ids=", ".join(replacement.replacements), how=how)
    )
    echo_written(paths)


def _echo_round(basis: ReplacementBasis) -> None:
    """The round, the dropouts, the members who stay, the candidates, and the derived quotas
    that bind the replacements."""
    instance = basis.instance
    click.echo(
        ngettext(
            "round {round}: {k} dropout, {stay} members stay, {candidates} candidates",
            "round {round}: {k} dropouts, {stay} members stay, {candidates} candidates",
            instance.k,
        ).format(
            round=basis.state.round,
            k=instance.k,
            stay=len(basis.stayers),
            candidates=instance.pool.size,
        )
    )
    binding = [
        f"{q.feature} {q.value} {q.min}-{q.max}"
        for q in instance.quotas.rows
        if q.min > 0 or q.max < instance.k
    ]
    click.echo(
        _("derived quotas that bind the {k} replacements: {quotas}").format(
            k=instance.k, quotas=", ".join(binding) if binding else _("none")
        )
    )


def _commit_only(
    record_path: Path,
    pool_path: Path,
    dropouts: IdList,
    unavailable: IdList,
    alternates_dir: Path | None,
    seeded: bool,
    privacy: PrivacyArgs,
    out: Path,
    force: bool,
    run: AlgorithmArgs,
) -> None:
    """replace --commit-only: the replacement draw's commitment, and the SHA-256 to publish."""
    if alternates_dir is not None:
        raise click.UsageError(
            _(
                "--commit-only does not go with --from-alternates: the best subset of the "
                "alternates takes no seed, so there is nothing to commit to before one (verify "
                "re-solves it)"
            )
        )
    if seeded:
        raise click.UsageError(
            _(
                "--commit-only takes no seed: publish the commitment's SHA-256 first, then draw "
                "with the seed (sortition draw --commitment)"
            )
        )
    progress = ProgressRenderer()
    try:
        commitment = commit_replacement(
            record_path,
            pool_path,
            dropouts,
            unavailable,
            algorithm=run.algorithm,
            max_attempts=run.max_attempts,
            panels=run.panels,
            by_type=not run.per_person,
            progress=progress,
            time_limit=run.time_limit,
            pseudonym_key=privacy.key(),
            ids_are_public=privacy.ids_are_public,
        )
    finally:
        progress.close()
    paths = write_replacement_commitment(commitment, out, force)
    _echo_round(commitment.basis)
    echo_written(paths)
    click.echo(_("publish this SHA-256 of commitment.json before the seed exists:"))
    click.echo(commitment.sha256)


@command(epilog=epilog("alternates"))
@file_option(
    "--record",
    "record_path",
    "The panel's record.json (or the replacement.json of the latest round).",
    required=True,
)
@file_option(
    "--pool",
    "pool_path",
    "The pool file the panel was drawn from (checked against the record's digest).",
    required=True,
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    required=True,
    help="How many alternates to choose (e.g. k/5).",
)
@click.option(
    "--dropout-rate",
    type=click.FloatRange(min=0.0, max=1.0, max_open=True),
    default=None,
    help="Every member drops out with this probability (e.g. 0.1).",
)
@file_option(
    "--dropout-model",
    "model_path",
    "Per-value dropout rates: a CSV feature,value,rate (a value not listed: rate 0).",
)
@file_option(
    "--fit-dropouts",
    "history_path",
    "A past panel: the quota features and a column dropped (0 or 1); the product model is "
    "fitted to it by maximum likelihood.",
)
@click.option(
    "--scenarios",
    type=click.IntRange(min=1, max=2000),
    default=100,
    show_default=True,
    help="Sampled dropout scenarios the alternates are chosen on.",
)
@click.option(
    "--evaluate",
    type=click.IntRange(min=1, max=100000),
    default=1000,
    show_default=True,
    help="Fresh scenarios on which the alternates are compared with the two baselines.",
)
@click.option(
    "--effort",
    type=click.FloatRange(min=0.0, max=3600.0),
    default=0.0,
    show_default=True,
    help="CP-SAT's deterministic time (about seconds) to improve the set found by local search "
    "and bound the optimum; 0: local search only.",
)
@seed_options
@privacy_options
@output_options()
@reports_errors
def alternates(
    record_path: Path,
    pool_path: Path,
    budget: int,
    dropout_rate: float | None,
    model_path: Path | None,
    history_path: Path | None,
    scenarios: int,
    evaluate: int,
    effort: float,
    seed_source: SeedArgs,
    privacy: PrivacyArgs,
    out: Path,
    force: bool,
) -> None:
    """Choose alternates right after the draw, so that whoever drops out the best subset of them
    restores the quotas as nearly as possible, and compare them with the practitioners' two
    baselines on fresh simulated dropouts.

    When the panel's record names people by keyed pseudonyms, give the key it was made with
    (--pseudonym-key); alternates.json names the alternates by pseudonym.
    """
    given = [x for x in (dropout_rate, model_path, history_path) if x is not None]
    if len(given) != 1:
        raise click.UsageError(
            _("give exactly one dropout model: --dropout-rate, --dropout-model or --fit-dropouts")
        )
    check_output_dir(
        out,
        force,
        inputs(record_path, pool_path, model_path, history_path)
        + privacy.files
        + seed_source.files,
    )
    seed = seed_source.resolve()
    quotas = panel_quotas(record_path)
    if dropout_rate is not None:
        model = uniform_model(dropout_rate)
    elif model_path is not None:
        model = per_value_model(model_path, quotas)
    else:
        assert history_path is not None
        model = fit_product_model(history_path, quotas)
    result = choose_alternates(
        record_path,
        pool_path,
        budget,
        model,
        seed,
        scenarios=scenarios,
        evaluation=evaluate,
        effort=effort,
        pseudonym_key=privacy.key(),
        ids_are_public=privacy.ids_are_public,
    )
    paths = write_alternates(result, out, force)
    click.echo(
        _("dropout model: {kind} (P(stay) = {beta} x the values' factors)").format(
            kind=model.kind, beta=f"{model.beta0:.4f}"
        )
    )
    click.echo(
        _(
            "{budget} alternates chosen on {scenarios} scenarios; compared on {evaluate} fresh "
            "ones (deviation: how far the panel's counts lie outside the quotas after the best "
            "subset of the alternates replaces the dropouts):"
        ).format(budget=budget, scenarios=scenarios, evaluate=evaluate)
    )
    for method, figures in result.figures.items():
        click.echo(
            f"  {method:18} "
            + _("mean deviation {mean}, fully restored {share} %, worst {worst}").format(
                mean=f"{figures.mean:7.3f}",
                share=f"{100 * figures.zero_share:5.1f}",
                worst=figures.worst,
            )
        )
    times = ", ".join(f"{part} {value:.1f} s" for part, value in result.seconds.items())
    click.echo(_("time: {times}").format(times=times))
    echo_written(paths, ("alternates.csv", *PRIVATE_FILES))
