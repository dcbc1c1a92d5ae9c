"""The options several commands share (--pool, --quotas, -k, --out, --force, the seed sources ...)
and the helpers that turn them into library calls.

Three groups of options reach the command as one object each, so that a command's signature
names the group once: ``input_options`` gives ``inputs: InputArgs``, ``seed_options`` gives
``seed_source: SeedArgs`` and ``algorithm_options`` gives ``run: AlgorithmArgs``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from sortition_cli.i18n import _, library_text

# The library is imported where it is used, not here: every command module imports this one,
# and a command that needs neither pandas nor OR-Tools (verify --help, new-key, serve) should
# not wait for them (the options that show the library's defaults import it when a command
# module applies them).
if TYPE_CHECKING:
    from sortition.privacy.keys import PseudonymKey
    from sortition.record.build import SeedLike
    from sortition.seeds import Seed
    from sortition.selection.service import LoadedInput

F = TypeVar("F", bound=Callable[..., Any])
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _grouped(group: type[Any], into: str, options: list[Decorator]) -> Decorator:
    """Add ``options`` to a command (in the order given) and hand it their values as one
    ``group`` object, the keyword argument ``into``; the group's fields are the options' names."""
    names = [field.name for field in dataclasses.fields(group)]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in names}
            return command(*args, **kwargs, **{into: group(**values)})

        decorated: Callable[..., Any] = wrapper
        for option in reversed(options):
            decorated = option(decorated)
        return decorated

    return decorate


def file_option(flag: str, dest: str, help: str, required: bool = False) -> Decorator:
    """An option naming an input file (a folder is refused)."""
    # No default for a required one: click (8.3 and later) takes an explicit default of None
    # for a value given, so a missing --pool reached the command instead of "Missing option".
    return click.option(
        flag,
        dest,
        required=required,
        type=click.Path(path_type=Path, dir_okay=False),
        help=help,
        **({} if required else {"default": None}),
    )


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


@dataclass(frozen=True)
class InputArgs:
    """--pool, --quotas, -k, --id-column, --household-columns, --allow-empty-household."""

    pool_path: Path
    quotas_path: Path
    k: int
    id_column: str | None
    household_columns: str | None
    allow_empty_household: bool

    @property
    def files(self) -> list[Path]:
        return [self.pool_path, self.quotas_path]

    def load(self, privacy: PrivacyArgs | None = None) -> LoadedInput:
        """Both files read and validated (``sortition.load``), their warnings on stderr; with
        ``privacy`` the ids become keyed pseudonyms, or ids that look personal are refused."""
        from sortition.selection.service import load_input

        loaded = load_input(
            self.pool_path,
            self.quotas_path,
            self.k,
            self.id_column,
            split_columns(self.household_columns),
            self.allow_empty_household,
            pseudonym_key=None if privacy is None else privacy.key(),
            ids_are_public=privacy is None or privacy.ids_are_public,
        )
        for warning in loaded.warnings:
            click.echo(_("warning: {warning}").format(warning=library_text(warning)), err=True)
        return loaded


input_options = _grouped(
    InputArgs,
    "inputs",
    [
        file_option(
            "--pool",
            "pool_path",
            "The volunteers: CSV (UTF-8; comma, semicolon, tab or |), .xlsx (first sheet) "
            "or .parquet.",
            required=True,
        ),
        file_option(
            "--quotas",
            "quotas_path",
            "feature,value,min,max (or category,name / category,feature / category,value "
            "instead of feature,value); other columns are ignored with a warning.",
            required=True,
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
    ],
)
"""The shared input options of check, select, commit and audit, as ``inputs: InputArgs``."""


PSEUDONYM_KEY_HELP = (
    "A key file made by `sortition new-key`: every id becomes its keyed pseudonym in what may "
    "be published; DIR/private/pseudonyms.csv keeps the table. Required when the ids look "
    "personal (e-mail addresses, phone numbers, names)."
)


@dataclass(frozen=True)
class PrivacyArgs:
    """--pseudonym-key, --ids-are-public."""

    pseudonym_key: Path | None
    ids_are_public: bool

    @property
    def files(self) -> list[Path]:
        return inputs(self.pseudonym_key)

    def key(self) -> PseudonymKey | None:
        """The key the options name (never created here: a missing file is bad input)."""
        from sortition.privacy.keys import read_key

        return None if self.pseudonym_key is None else read_key(self.pseudonym_key)


pseudonym_key_option = file_option("--pseudonym-key", "pseudonym_key", PSEUDONYM_KEY_HELP)

privacy_options = _grouped(
    PrivacyArgs,
    "privacy",
    [
        pseudonym_key_option,
        click.option(
            "--ids-are-public",
            is_flag=True,
            help="State that the ids are not personal, so they may appear in what is published "
            "as they are (without it, ids that look personal need --pseudonym-key).",
        ),
    ],
)
"""--pseudonym-key and --ids-are-public, for every command that writes a record or a report."""


@dataclass(frozen=True)
class TypesArgs:
    """--publish-types, --min-type-size (select and commit)."""

    publish_types: bool
    min_type_size: int

    @property
    def threshold(self) -> int | None:
        """T when type counts are published, None when the record lists every volunteer."""
        return self.min_type_size if self.publish_types else None


def types_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--publish-types and --min-type-size, for select and commit."""
    from sortition.record.types import DEFAULT_MIN_TYPE_SIZE

    return _grouped(TypesArgs, "types", _types_options(DEFAULT_MIN_TYPE_SIZE))(command)


def _types_options(default_min_type_size: int) -> list[Decorator]:
    return [
        click.option(
            "--publish-types",
            is_flag=True,
            help="Publish type counts instead of the volunteers: the record and distribution "
            "list each combination of quota values with its number of people, and a pseudonym's "
            "type only where the type has at least --min-type-size people; rarer types are "
            "withheld behind a keyed digest (needs --pseudonym-key; docs/privacy.md).",
        ),
        click.option(
            "--min-type-size",
            type=click.IntRange(min=1),
            default=default_min_type_size,
            show_default=True,
            help="With --publish-types: a type of fewer people is withheld (its values and "
            "members stay out of what is published).",
        ),
    ]


OUT_HELP = "Output folder (created; must be new or empty unless --force)."
EXCEL_CSV_HELP = (
    "Write the CSV files as UTF-8 with a byte-order mark, so that Excel shows Hebrew and other "
    "non-Latin names correctly (done anyway when an input CSV file has one). Records (JSON) "
    "never get one."
)
FORCE_HELP = (
    "Replace an earlier output folder of sortition. Never a folder that holds the inputs or "
    "files sortition did not write."
)


def input_files(values: Iterable[Any]) -> list[Path]:
    """The files among a command's argument values: paths, and the ``files`` of the option
    groups (InputArgs, PrivacyArgs, SeedArgs)."""
    found: list[Path] = []
    for value in values:
        if isinstance(value, Path):
            found.append(value)
        elif isinstance(getattr(value, "files", None), list):
            found.extend(value.files)
    return found


def excel_csv_output(command: F) -> F:
    """--excel-csv: the command's CSV outputs get the UTF-8 byte-order mark when it is given or
    when one of its input CSV files starts with one (``sortition.io.outputs.csv_byte_order_mark``);
    the output folder's own path is not an input (a folder never has a mark)."""

    @functools.wraps(command)
    def wrapper(*args: Any, excel_csv: bool, **kwargs: Any) -> Any:
        from sortition.io.outputs import csv_byte_order_mark
        from sortition.io.tables import starts_with_bom

        files = input_files([*args, *kwargs.values()])
        marked = excel_csv or any(starts_with_bom(path) for path in files if path.is_file())
        with csv_byte_order_mark(marked):
            return command(*args, **kwargs)

    return click.option("--excel-csv", is_flag=True, help=EXCEL_CSV_HELP)(wrapper)  # type: ignore[return-value]


def output_options(help: str = OUT_HELP) -> Callable[[F], F]:
    """--out FOLDER (required), --force and --excel-csv: every command that writes a folder."""

    def decorate(command: F) -> F:
        command = excel_csv_output(command)
        command = click.option("--force", is_flag=True, help=FORCE_HELP)(command)
        return click.option(
            "--out",
            "out",
            required=True,
            type=click.Path(path_type=Path, file_okay=False),
            help=help,
        )(command)

    return decorate


def gamma_option() -> Callable[[F], F]:
    """--gamma: GOLDILOCKS's weight of the smallest chance (select, commit, audit)."""
    from sortition.selection.service import DEFAULT_GAMMA

    return click.option(
        "--gamma",
        type=click.FloatRange(min=0.0),
        default=DEFAULT_GAMMA,
        show_default=True,
        help="GOLDILOCKS: how much the smallest chance weighs against the largest (it minimises "
        "largest/(k/n) + gamma * (k/n)/smallest); larger protects the least-favoured more.",
    )


def time_limit_option(help: str) -> Callable[[F], F]:
    """--time-limit: seconds the fair algorithms may run (select, commit, audit)."""
    return click.option(
        "--time-limit", type=click.FloatRange(min=0.0, min_open=True), default=None, help=help
    )


@dataclass(frozen=True)
class AlgorithmArgs:
    """--algorithm, --max-attempts, --time-limit, --panels, --per-person, --gamma,
    --diversity-within."""

    algorithm: str
    max_attempts: int
    time_limit: float | None
    panels: int | None
    per_person: bool
    gamma: float
    diversity_within: float | None = None


FAIR_TIME_LIMIT_HELP = "Seconds the fair algorithms may run; past it, stop cleanly (exit 4)."


def algorithm_options_with(time_limit_help: str = FAIR_TIME_LIMIT_HELP) -> Decorator:
    """The algorithm options, with ``time_limit_help`` as --time-limit's help (``replace``'s
    limit bounds more than the fair algorithms)."""
    return _grouped(AlgorithmArgs, "run", _algorithm_options(time_limit_help))


def _algorithm_options(time_limit_help: str) -> list[Decorator]:
    from sortition.selection.service import ALGORITHMS, DEFAULT_ALGORITHM

    return [
        click.option(
            "--algorithm",
            type=click.Choice(ALGORITHMS),
            default=DEFAULT_ALGORITHM,
            show_default=True,
            help="leximin: the fairest lottery the quotas allow (smallest chance as large as "
            "possible, then the next); maximin: only the smallest; nash: the product of the "
            "chances; goldilocks: neither too small nor too large a chance (--gamma); legacy: "
            "the greedy used before 2021, which gives some volunteers almost no chance; "
            "diversimax: the one panel most evenly spread across combinations of features "
            "(docs/diversity.md), no lottery among the types.",
        ),
        click.option(
            "--max-attempts",
            type=click.IntRange(min=1),
            default=100,
            show_default=True,
            help="LEGACY: restarts allowed after dead ends.",
        ),
        time_limit_option(time_limit_help),
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
        gamma_option(),
        click.option(
            "--diversity-within",
            type=click.FloatRange(min=0.0),
            default=None,
            metavar="FRACTION",
            help="leximin, maximin, nash, goldilocks: draw only among panels whose diversity "
            "score is at most (1 + FRACTION) times the most diverse panel's (e.g. 0.1: within "
            "10 %; docs/diversity.md); the output says what it costs in smallest chance. Slow "
            "today beyond small pools (minutes or more for a few hundred volunteers): give "
            "--time-limit.",
        ),
    ]


def algorithm_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The algorithm options of select and commit, as ``run: AlgorithmArgs``."""
    return algorithm_options_with()(command)


@dataclass(frozen=True)
class SeedArgs:
    """--seed, --beacon, --dice, --reveal, --commitments, --allow-missing: one seed source."""

    seed: str | None
    beacon: Path | None
    dice: str | None
    reveals: tuple[str, ...]
    commitments: Path | None
    allow_missing: bool

    @property
    def files(self) -> list[Path]:
        """The seed source's files (a beacon pulse, the published commitments)."""
        return inputs(self.beacon, self.commitments)

    def resolve(self, *, allow_os: bool = True) -> SeedLike:
        """The one seed the options name (``sortition.seeds.resolve_seed``), said on stdout
        unless it is the --seed text itself."""
        from sortition.seeds import resolve_seed

        resolved: Seed = resolve_seed(
            self.seed,
            self.beacon,
            self.dice,
            self.reveals,
            self.commitments,
            self.allow_missing,
            allow_os=allow_os,
        )
        if resolved.source == "os":
            click.echo(
                _(
                    "no seed source given: using a fresh seed from the operating system: {seed}"
                ).format(seed=resolved.value)
            )
        elif resolved.source != "seed":
            click.echo(
                _("seed from {source}: {seed}").format(source=resolved.source, seed=resolved.value)
            )
        return resolved


seed_options = _grouped(
    SeedArgs,
    "seed_source",
    [
        click.option(
            "--seed", default=None, help="The seed string every random choice derives from."
        ),
        file_option(
            "--beacon",
            "beacon",
            "A saved drand or NIST Beacon 2.0 pulse (JSON); the tool never fetches it.",
        ),
        click.option("--dice", default=None, help='Dice rolled in public, e.g. "3,6,1,4,2,5".'),
        click.option(
            "--reveal",
            "reveals",
            multiple=True,
            help="A party's revealed secret (repeat for each party); needs --commitments.",
        ),
        file_option(
            "--commitments",
            "commitments",
            "The SHA-256 commitments published before the draw, one per line.",
        ),
        click.option(
            "--allow-missing",
            is_flag=True,
            help="Draw even if some committed party did not reveal (the record notes it).",
        ),
    ],
)
"""One seed source, for every command that draws, as ``seed_source: SeedArgs``."""


def inputs(*paths: Path | None) -> list[Path]:
    """The input files a command reads: its --out folder must never hold them."""
    return [path for path in paths if path is not None]
