"""`sortition groups`: seat the panel at tables for one or more rounds (sortition.groups)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from sortition_cli.examples import epilog
from sortition_cli.i18n import _, command, ngettext
from sortition_cli.options import (
    PrivacyArgs,
    SeedArgs,
    file_option,
    inputs,
    output_options,
    privacy_options,
    seed_options,
    split_columns,
    time_limit_option,
)
from sortition_cli.privacy import echo_written
from sortition_cli.reporting import reports_errors

from sortition.errors import InputError
from sortition.io.outputs import check_output_dir

if TYPE_CHECKING:
    from sortition.groups.service import GroupsResult


@command(epilog=epilog("groups"))
@file_option(
    "--panel",
    "panel_path",
    "The people to seat: selected.csv from select or draw (or any CSV, .xlsx, .parquet).",
)
@click.option("--size", type=click.IntRange(min=1), default=None, help="People a table, at most.")
@click.option("--tables", type=click.IntRange(min=1), default=None, help="How many tables.")
@click.option(
    "--rounds", type=click.IntRange(min=1), default=1, show_default=True, help="Rounds to seat."
)
@click.option(
    "--balance",
    default=None,
    help="Comma-separated columns: each table's count of each value is kept near its share.",
)
@click.option(
    "--apart",
    default=None,
    help="Columns (comma-separated) whose equal values never share a table, compared as "
    "household cells are (ignoring case and spacing): a household, an organisation.",
)
@file_option(
    "--together",
    "together_path",
    "A CSV of id pairs (id,id) who always share a table: a carer, an interpreter.",
)
@file_option(
    "--fixed",
    "fixed_path",
    "A CSV id,table[,round] pinning people to a table (1-based; no round: every round).",
)
@click.option(
    "--id-column",
    default=None,
    help="Column holding each person's id (default: 'id', else 'nationbuilder_id', else row "
    "numbers 0, 1, ...).",
)
@click.option(
    "--name-column",
    default=None,
    help="A column of names to show beside the ids in seating.html (never in the record).",
)
@click.option(
    "--effort",
    type=click.IntRange(min=1),
    default=None,
    help="The search's budget in moves (default 900 per person and round when no two people "
    "need ever meet twice, else 200; at least 20,000); "
    "the same inputs, seed and effort give the same seating on any machine.",
)
@file_option(
    "--reseat",
    "reseat_path",
    "An earlier groups.json: re-seat it after --dropout people left (or for --panel FILE, the "
    "panel after dropouts and replacements: newcomers take the leavers' seats), with as few "
    "moves as possible (the new record embeds the old one).",
)
@click.option(
    "--dropout",
    "dropouts",
    multiple=True,
    help="With --reseat: the id of a person who dropped out (repeat for each).",
)
@privacy_options
@seed_options
@time_limit_option(
    "Seconds the search may run; past it, stop cleanly and write nothing (exit 4). The budget "
    "that decides the seating is --effort, never the clock."
)
@output_options()
@reports_errors
def groups(
    panel_path: Path | None,
    size: int | None,
    tables: int | None,
    rounds: int,
    balance: str | None,
    apart: str | None,
    together_path: Path | None,
    fixed_path: Path | None,
    id_column: str | None,
    name_column: str | None,
    effort: int | None,
    reseat_path: Path | None,
    dropouts: tuple[str, ...],
    privacy: PrivacyArgs,
    seed_source: SeedArgs,
    time_limit: float | None,
    out: Path,
    force: bool,
) -> None:
    """Seat the panel at tables for one or more rounds (World Café, breakout tables).

    Every round splits the panel into tables whose sizes differ by at most one. The goals, in
    order: the rules (--apart, --together, --fixed) always hold; the fewest pairs who share a
    table more than once; each table's count of every --balance value as near its share as
    possible (the largest deviation, then the total). Writes DIR/groups.csv (round, table, id),
    summary.json (counts, deviations, repeat pairs and their lower bounds), groups.json (the
    record 'sortition verify' re-derives) and seating.html (a printable plan).

    groups.json and summary.json may be published: with --pseudonym-key they name people by
    the keyed pseudonyms select gives them (DIR/private/pseudonyms.csv keeps the table);
    groups.csv and seating.html name them by your ids (and names) and stay private.
    """
    # The seating's modules load when the command runs, not with every command of the tool.
    from sortition.groups.service import reseat_panel, seat_panel, write_groups

    files = (
        inputs(panel_path, together_path, fixed_path, reseat_path)
        + privacy.files
        + seed_source.files
    )
    check_output_dir(out, force, files)
    key = privacy.key()
    if reseat_path is not None:
        result = reseat_panel(
            reseat_path, dropouts, panel_path, name_column, key, privacy.ids_are_public
        )
        _reseat(result, out, force, files)
        return
    if panel_path is None:
        raise InputError(_("give --panel FILE (the people to seat), or --reseat groups.json"))
    if dropouts:
        raise InputError(_("--dropout goes with --reseat groups.json"))
    source = seed_source.resolve()
    result = seat_panel(
        panel_path,
        rounds=rounds,
        seed=source,
        size=size,
        tables=tables,
        balance=split_columns(balance),
        apart=split_columns(apart),
        together_path=together_path,
        fixed_path=fixed_path,
        id_column=id_column,
        name_column=name_column,
        effort=effort,
        time_limit=time_limit,
        pseudonym_key=key,
        ids_are_public=privacy.ids_are_public,
    )
    _report(result, write_groups(result, out, force, files))


def _reseat(result: GroupsResult, out: Path, force: bool, files: list[Path]) -> None:
    from sortition.groups.service import write_groups

    reseat = result.record["reseat"]
    dropouts, moves = reseat["dropouts"], reseat["moves"]
    for newcomer, seats in reseat["replacements"]:
        place = (
            _("{person} takes the seats of {seats}")
            if seats
            else _("{person} sits at a smallest table")
        )
        click.echo(place.format(person=newcomer, seats=seats))
    click.echo(
        ngettext(
            "{dropouts} dropped out; {moves} move mends the table sizes:",
            "{dropouts} dropped out; {moves} moves mend the table sizes:",
            len(moves),
        ).format(dropouts=len(dropouts), moves=len(moves))
    )
    for number, person, before, after in moves:
        click.echo(
            "  "
            + _("round {round}: {person} from table {before} to table {after}").format(
                round=number, person=person, before=before, after=after
            )
        )
    _report(result, write_groups(result, out, force, files))


def _report(result: GroupsResult, paths: list[Path]) -> None:
    got = result.record["result"]
    problem = result.problem
    click.echo(
        ngettext(
            "seated {people} people at {tables} tables in {rounds} round ({seconds} s)",
            "seated {people} people at {tables} tables in {rounds} rounds ({seconds} s)",
            problem.rounds,
        ).format(
            people=problem.people,
            tables=problem.tables,
            rounds=problem.rounds,
            seconds=f"{result.seconds:.1f}",
        )
    )
    click.echo(
        "  "
        + _("repeat pairs: {pairs} (no seating has fewer than {bound})").format(
            pairs=got["repeat_pairs"], bound=got["repeat_pairs_bound"]
        )
    )
    if problem.features:
        click.echo(
            "  "
            + _(
                "largest balance deviation: {largest} (no seating has less than {bound}); "
                "total {total}"
            ).format(
                largest=f"{got['max_deviation']:.3f}",
                bound=f"{got['max_deviation_bound']:.3f}",
                total=f"{got['total_deviation']:.3f}",
            )
        )
    from sortition.groups.service import PRIVATE_FILES

    echo_written(paths, PRIVATE_FILES)
