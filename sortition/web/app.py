"""The page's routes: parse the request, call the public API (``sortition``), render a template.

Projects (``projects.py``) hold the uploaded files and the runs; long runs go to background jobs
(``jobs.py``); every string a user reads goes through the ``web`` message catalogue
(``sortition.i18n``) in the language the browser asked for. ``create_app`` builds the app that
``sortition serve`` runs with uvicorn (docs/web.md).

Safety: on a local address the page answers only requests addressed to localhost (a page of
another site cannot reach it through DNS tricks); with ``token`` set (``sortition serve --host``
on another address) every request must carry it, once as ``?token=`` and then as a cookie. A
browser gets a random session cookie, and sees only the projects it made. Uploads are limited
in size, and logs name projects and runs by their random ids only.
"""

from __future__ import annotations

import csv
import gettext
import hashlib
import json
import math
import re
import secrets
import shlex
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

import sortition
from sortition.i18n import LANGUAGES, negotiate, text_direction, translations
from sortition.web import jobs as job_states
from sortition.web.describe import ALGORITHM_LINES, describe_event, event_fraction
from sortition.web.jobs import Job, Jobs, from_stored
from sortition.web.projects import (
    PRIVATE_FOLDER,
    PSEUDONYM_TABLE,
    Project,
    Projects,
    ensure_key,
    privacy_key,
    safe_file_name,
    session_digest,
    why_personal,
)
from sortition.web.tables import csv_for_excel, csv_to_xlsx

MAX_UPLOAD = 50 * 1024 * 1024  # bytes per file; a pool of a million rows fits
MAX_BODY = 3 * MAX_UPLOAD + 64 * 1024
CHECK_SECONDS = 30.0  # the feasibility check after an upload
SESSION_COOKIE = "sortition_session"
LANGUAGE_COOKIE = "sortition_lang"
TOKEN_COOKIE = "sortition_token"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
YEAR = 365 * 24 * 3600
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'self'"
)
# The audit's report.html, shown in a frame: its own inline style and data: images, no script.
REPORT_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a draw's or the letters' downloads may be published (they name people by pseudonyms where
# the ids look personal, and hold no column of the pool); every other file is the organiser's own.
PUBLIC_FILES = frozenset(
    {
        "record.json",
        "replacement.json",
        "alternates.json",
        "comparison.csv",
        "groups.json",
        "summary.json",
        "distribution.json",
        "lottery.csv",
        "commitment.json",
        "report.html",
    }
)
ID_LIST_SUFFIXES = (".txt", ".csv")  # a list of dropouts or unavailable people: one id a line
AUDIT_DRAWS = 2000  # the page's default number of LEGACY draws (the command's is 10,000)

_current: ContextVar[gettext.NullTranslations | None] = ContextVar(
    "sortition_web_translations", default=None
)
_ENGLISH = gettext.NullTranslations()


def _(message: str, **values: Any) -> str:
    text = (_current.get() or _ENGLISH).gettext(message)
    return text % values if values else text


_library: ContextVar[gettext.NullTranslations | None] = ContextVar(
    "sortition_web_library_translations", default=None
)


def problem_text(problem: sortition.Problem | str) -> str:
    """A problem, a warning or a line of advice of the library in the request's language, where
    the library made it translatable (a ``Problem``, or a ``str`` that keeps its template: it has
    ``text(gettext)``), else as it is."""
    text = getattr(problem, "text", None)
    return text((_library.get() or _ENGLISH).gettext) if callable(text) else str(problem)


def stored_text(stored: Any) -> str:
    """A failed run's problem or line of advice, as runs/<n>.json keeps it
    (``sortition.web.jobs.to_stored``), in the request's language."""
    return problem_text(from_stored(stored))


def page_advice(
    advice: list[Any], project: Project, k: int | None, households: bool, with_command: bool = True
) -> dict[str, Any]:
    """The advice of quotas that cannot be met as the page shows it, in the request's language:
    ``changes``, the smallest change of the quotas (headed as such), and ``advice``, the rest,
    each ``{"text", "command"}``. A time limit that passed before the smallest change was found
    cannot be raised on the page: its line says so and gives the ``sortition check`` command
    line on the project's files with a longer ``--time-limit`` (``check_command``) to run.
    Advice a page kept before it kept the kinds (a failed run's, no line an ``Advice``) is shown
    as it was then: under the change's heading. ``with_command`` False (a replacement round, whose
    quotas and k come from the record, not from the project's files): no ``sortition check``
    line, the library's own words."""
    if not any(isinstance(line, sortition.Advice) for line in advice):
        return {"changes": [problem_text(line) for line in advice], "advice": []}
    changes, others = sortition.split_advice(advice)
    lines: list[dict[str, Any]] = []
    for line in others:
        if (
            with_command
            and isinstance(line, sortition.Advice)
            and line.kind == sortition.Advice.TIME_LIMIT
        ):
            seconds = dict(line.params)["seconds"]
            text = _(
                "The check searched for the smallest change of the quotas for %(seconds)s s and "
                "did not find it in that time; the page cannot give it longer. To search longer, "
                "run the check on the command line with a longer --time-limit:",
                seconds=seconds,
            )
            command = check_command(project, k, households, float(str(seconds)))
            lines.append({"text": text, "command": command})
        else:
            lines.append({"text": problem_text(line), "command": None})
    return {"changes": [problem_text(line) for line in changes], "advice": lines}


# A command-line option in running text: two hyphens, then a word (``--time-limit``).
_OPTION = re.compile(r"(?<![\w-])(--[A-Za-z][\w-]*)")


def isolate_options(text: object) -> Markup:
    """``text`` escaped, with every command-line option in it (``--time-limit``) in a
    left-to-right isolate. In a right-to-left sentence the option's leading hyphens are neutral
    and would take the sentence's direction: the Hebrew page showed "time-limit--". Marks or
    isolates inside the translation do not reach every message (the library's problems carry
    none), so the page isolates options where it shows a message."""
    return Markup(_OPTION.sub(r'<bdi dir="ltr">\1</bdi>', str(escape(str(text)))))


def check_command(project: Project, k: int | None, households: bool, seconds: float) -> str:
    """``sortition check`` on the project's files as they were uploaded, with a time limit ten
    times the page's (five minutes at least): what an organiser types to search longer."""
    settings = project.settings
    words = ["sortition", "check", "--pool", settings.pool or "POOL"]
    words += ["--quotas", settings.quotas or "QUOTAS", "-k", str(k or settings.k or "K")]
    if settings.id_column:
        words += ["--id-column", settings.id_column]
    if households and settings.household_columns:
        words += ["--household-columns", ",".join(settings.household_columns)]
    return shlex.join([*words, "--time-limit", f"{max(300.0, 10 * seconds):g}"])


def item_text(item: sortition.CheckItem) -> tuple[str, str]:
    """A check item of ``verify``: its name and detail in the request's language (values, such
    as digests, ids and file names, as they are)."""
    return item.text((_library.get() or _ENGLISH).gettext)


def _ngettext(singular: str, plural: str, n: int) -> str:
    """The templates' ``ngettext``: the text for ``n`` in the request's language, which Jinja
    (newstyle gettext) then fills with ``num`` and the template's other values."""
    return (_current.get() or _ENGLISH).ngettext(singular, plural, n)


def excel_csv_like(source: Path | None) -> AbstractContextManager[None]:
    """The CSV files written in the block start with the UTF-8 byte-order mark when the
    uploaded ``source`` (the pool, the registry) had one, as the command line writes them: a
    file saved from Excel as "CSV UTF-8" gives files Excel reads back with their names intact."""
    return sortition.csv_byte_order_mark(source is not None and sortition.starts_with_bom(source))


def write_committed_draw(result: sortition.CommittedDraw, out: Path, pool: Path | None) -> None:
    with excel_csv_like(pool):
        sortition.write_committed_draw(result, out)


class UploadTooLarge(Exception):
    pass


ROUTES = (  # method, path, the Site method that answers
    ("GET", "/", "index"),
    ("POST", "/projects", "create"),
    ("GET", "/p/{project_id}", "project_page"),
    ("POST", "/p/{project_id}/inputs", "upload"),
    ("POST", "/p/{project_id}/delete", "delete"),
    ("POST", "/p/{project_id}/privacy", "set_privacy"),
    ("POST", "/p/{project_id}/key", "download_key"),
    ("GET", "/p/{project_id}/draw", "draw_page"),
    ("POST", "/p/{project_id}/draw", "draw"),
    ("POST", "/p/{project_id}/commit", "commit"),
    ("POST", "/p/{project_id}/runs/{run}/draw", "draw_committed"),
    ("GET", "/p/{project_id}/replace", "replace_page"),
    ("POST", "/p/{project_id}/replace", "replace"),
    ("POST", "/p/{project_id}/replace/commit", "commit_replace"),
    ("GET", "/p/{project_id}/alternates", "alternates_page"),
    ("POST", "/p/{project_id}/alternates", "alternates"),
    ("GET", "/p/{project_id}/groups", "groups_page"),
    ("POST", "/p/{project_id}/groups", "groups"),
    ("GET", "/p/{project_id}/audit", "audit_page"),
    ("POST", "/p/{project_id}/audit", "audit"),
    ("GET", "/p/{project_id}/invite", "invite_page"),
    ("POST", "/p/{project_id}/invite", "invite"),
    ("GET", "/p/{project_id}/runs/{run}", "run_page"),
    ("GET", "/p/{project_id}/runs/{run}/status", "run_status"),
    ("POST", "/p/{project_id}/runs/{run}/cancel", "cancel"),
    ("GET", "/p/{project_id}/runs/{run}/files/{name}", "download"),
    ("GET", "/p/{project_id}/runs/{run}/verify", "verify_run"),
    ("POST", "/p/{project_id}/runs/{run}/verify/cancel", "cancel_verify"),
    ("GET", "/verify", "verify_page"),
    ("POST", "/verify", "verify_upload"),
)


def create_app(
    data: Path,
    *,
    default_language: str | None = None,
    token: str | None = None,
    local: bool = True,
    workers: int = 2,
) -> FastAPI:
    """The page over ``data`` (one folder per project). ``default_language``: the page's
    language for a browser that has not chosen one (else its Accept-Language decides);
    ``token``: required of every request when set; ``local``: answer only requests addressed to
    localhost; ``workers``: runs computed at once."""
    site = Site(Path(data), default_language, token, local, workers)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.middleware("http")(site.guard)
    app.mount("/static", StaticFiles(packages=[("sortition.web", "static")]), name="static")
    for method, path, name in ROUTES:
        app.add_api_route(path, getattr(site, name), methods=[method])
    app.state.projects = site.projects
    app.state.jobs = site.running
    return app


def to(url: str) -> RedirectResponse:
    """The browser to ``url`` (after a form: 303, so that reloading does not send it again)."""
    return RedirectResponse(url, status_code=303)


class Site:
    """The page's state (the projects, the jobs, the templates, the options) and its handlers:
    each route of ``ROUTES`` is one method, which parses, calls ``sortition`` and renders."""

    def __init__(
        self,
        data: Path,
        default_language: str | None,
        token: str | None,
        local: bool,
        workers: int,
    ) -> None:
        self.projects = Projects(data)
        self.running = Jobs(workers)
        self.default_language = default_language
        self.token = token
        self.local = local
        self.templates = Environment(
            loader=PackageLoader("sortition.web", "templates"),
            autoescape=select_autoescape(["html"]),
            extensions=["jinja2.ext.i18n"],
        )
        self.templates.install_gettext_callables(  # type: ignore[attr-defined]
            _, _ngettext, newstyle=True
        )
        self.templates.globals.update(
            item_text=item_text, library_text=problem_text, stored_text=stored_text
        )
        self.templates.filters["options"] = isolate_options

    # ------------------------------------------------------------------ request plumbing

    async def guard(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Any:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0] if request.headers else ""
        if request.headers.get("host", "").startswith("[::1]"):
            host = "[::1]"
        if self.local and host not in LOCAL_HOSTS:
            return Response("this page answers only on localhost", status_code=400)
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            return Response("upload too large", status_code=413)
        given = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE)
        if self.token is not None and not (given and secrets.compare_digest(given, self.token)):
            return Response(
                "a token is required: open the address that 'sortition serve' printed",
                status_code=403,
            )
        chosen = request.query_params.get("lang")
        if chosen not in LANGUAGES:
            chosen = None
        language = chosen or request.cookies.get(LANGUAGE_COOKIE)
        if language not in LANGUAGES:
            language = self.default_language or negotiate(request.headers.get("accept-language"))
        session = request.cookies.get(SESSION_COOKIE)
        new_session = session is None or len(session) < 20
        if new_session:
            session = secrets.token_urlsafe(24)
        request.state.language = language
        request.state.session = session
        response = await call_next(request)
        if new_session:
            response.set_cookie(
                SESSION_COOKIE, str(session), max_age=YEAR, httponly=True, samesite="lax"
            )
        if chosen:
            response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=YEAR, samesite="lax")
        if self.token is not None and request.query_params.get("token"):
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="lax")
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def page(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        language = request.state.language
        _current.set(translations("web", language))
        html = self.templates.get_template(template).render(
            language=language,
            direction=text_direction(language),
            path=request.url.path,
            algorithm_lines=ALGORITHM_LINES,
            default_min_type_size=sortition.DEFAULT_MIN_TYPE_SIZE,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def use_language(self, request: Request) -> None:
        """Messages built in Python (``_``) in the request's language."""
        _current.set(translations("web", request.state.language))
        _library.set(translations("library", request.state.language))

    def mine(self, request: Request, project_id: str) -> Project | None:
        return self.projects.get(project_id, request.state.session)

    def missing(self, request: Request) -> HTMLResponse:
        return self.page(request, "missing.html", status=404)

    def launch(
        self, request: Request, project: Project, run: str, work: Callable[[Job], None]
    ) -> RedirectResponse:
        """Start ``work`` as the project's run ``run`` and send the browser to its page."""
        self.running.start(project.id, run, session_digest(request.state.session), work, self.keep)
        return to(f"/p/{project.id}/runs/{run}")

    # ------------------------------------------------------------------ projects

    def index(self, request: Request) -> HTMLResponse:
        return self.page(request, "index.html", projects=self.projects.mine(request.state.session))

    def create(self, request: Request, name: Annotated[str, Form()] = "") -> Response:
        name = " ".join(name.split())[:100] or "project"
        project = self.projects.create(name, request.state.session)
        return to(f"/p/{project.id}")

    def project_page(self, request: Request, project_id: str) -> HTMLResponse:
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        return self.project_view(request, project)

    def project_view(
        self,
        request: Request,
        project: Project,
        upload_problems: list[str] | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        summary = project.settings.extra.get("summary")  # made at the upload
        table = None if summary is None else summary["table"]
        warnings = [] if summary is None else summary["warnings"]
        load_problems: list[str] = []
        if project.ready and summary is None:  # a project of an older page: read the files
            try:
                table, warnings = summarise(project.load())
            except sortition.SortitionError as error:
                load_problems = [problem_text(p) for p in error.problems]
        return self.page(
            request,
            "project.html",
            status=status,
            project=project,
            table=table,
            warnings=warnings,
            upload_problems=upload_problems or load_problems,
            check=check_view(project.settings.extra.get("check")),
            runs=project.runs(),
        )

    async def upload(
        self,
        request: Request,
        project_id: str,
        pool: Annotated[UploadFile | None, File()] = None,
        quotas: Annotated[UploadFile | None, File()] = None,
        k: Annotated[str, Form()] = "",
        household_columns: Annotated[str, Form()] = "",
        id_column: Annotated[str, Form()] = "",
    ) -> Response:
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        self.use_language(request)
        problems: list[str] = []
        files: dict[str, tuple[str, bytes]] = {}
        for kind, upload_file in (("pool", pool), ("quotas", quotas)):
            if upload_file is None or not upload_file.filename:
                continue
            name = safe_file_name(upload_file.filename)
            if name is None:
                problems.append(
                    _(
                        "%(file)s: choose a CSV (.csv) or Excel (.xlsx) file",
                        file=upload_file.filename,
                    )
                )
                continue
            try:
                files[kind] = (name, await read_limited(upload_file))
            except UploadTooLarge:
                problems.append(
                    _(
                        "%(file)s: the file is larger than %(mb)s MB",
                        file=name,
                        mb=MAX_UPLOAD // (1024 * 1024),
                    )
                )
        k_value = None
        if k.strip():
            try:
                k_value = int(k)
            except ValueError:
                k_value = 0
            if k_value < 1:
                problems.append(_("the panel size k must be a whole number of 1 or more"))
        if problems:
            return self.project_view(request, project, problems, status=400)
        columns = tuple(c.strip() for c in household_columns.split(",") if c.strip())
        new = await run_sync(
            self.validate_and_store, project, files, k_value, columns, id_column.strip() or None
        )
        if isinstance(new, list):
            return self.project_view(request, project, new, status=400)
        return to(f"/p/{project.id}")

    def validate_and_store(
        self,
        project: Project,
        files: dict[str, tuple[str, bytes]],
        k: int | None,
        household_columns: tuple[str, ...],
        id_column: str | None,
    ) -> Project | list[str]:
        """Load the new files with the stored ones in a scratch folder; keep them only when they
        load (the CLI's own messages otherwise), then run the feasibility check."""
        with tempfile.TemporaryDirectory(dir=project.folder) as scratch:
            paths: dict[str, Path] = {}
            for kind in ("pool", "quotas"):
                if kind in files:
                    name, content = files[kind]
                    path = Path(scratch) / kind / name
                    path.parent.mkdir()
                    path.write_bytes(content)
                    paths[kind] = path
                else:
                    stored = project.pool_path if kind == "pool" else project.quotas_path
                    if stored is not None:
                        paths[kind] = stored
            k = k if k is not None else project.settings.k
            personal = None
            if "pool" in paths and "quotas" in paths and k is not None:
                try:
                    personal = why_personal(
                        sortition.load(
                            paths["pool"],
                            paths["quotas"],
                            k,
                            id_column=id_column,
                            household_columns=household_columns,
                            ids_are_public=True,  # personal ids get the project's key below
                        )
                    )
                except sortition.SortitionError as error:
                    return [problem_text(p) for p in error.problems]
            for kind, (name, content) in files.items():
                project = self.projects.store_input(project, kind, name, content)
        if personal is not None:
            ensure_key(project)
        privacy = {**project.privacy, "personal": personal}
        project = self.projects.update(
            project,
            k=k,
            household_columns=household_columns,
            id_column=id_column,
            extra={**project.settings.extra, "check": None, "summary": None, "privacy": privacy},
        )
        if project.ready:
            table, warnings = summarise(project.load())
            summary = {"table": table, "warnings": warnings}
            project = self.projects.update(
                project,
                extra={
                    **project.settings.extra,
                    "summary": summary,
                    "check": self.feasibility(project),
                },
            )
        return project

    def feasibility(self, project: Project) -> dict[str, Any]:
        try:
            sortition.check(project.load(), time_limit=CHECK_SECONDS)
        except sortition.InfeasibleError as error:
            return {
                "feasible": False,
                "problems": [problem_text(p) for p in error.problems],
                **page_advice(error.advice, project, project.settings.k, True),
            }
        except sortition.SortitionError as error:
            return {
                "feasible": None,
                "problems": [problem_text(p) for p in error.problems],
                "changes": [],
                "advice": [],
            }
        return {"feasible": True, "problems": [], "changes": [], "advice": []}

    def delete(self, request: Request, project_id: str) -> Response:
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        self.projects.delete(project)
        return to("/")

    def set_privacy(
        self, request: Request, project_id: str, ids_are_public: Annotated[str, Form()] = ""
    ) -> Response:
        """The organiser says the ids are not personal (the command's --ids-are-public), or
        takes it back: the next draws then use the project's key again."""
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        privacy = {**project.privacy, "ids_are_public": bool(ids_are_public)}
        if not privacy["ids_are_public"] and privacy["personal"] is not None:
            ensure_key(project)
        self.projects.update(project, extra={**project.settings.extra, "privacy": privacy})
        return to(f"/p/{project.id}")

    def download_key(self, request: Request, project_id: str) -> Response:
        """The project's key file, only by a deliberate press of its button (a form, never a
        link among the run's downloads): the organiser keeps it to check a record later."""
        project = self.mine(request, project_id)
        if project is None or not project.key_path.is_file():
            return self.missing(request)
        response = Response(
            project.key_path.read_bytes(),
            media_type="application/octet-stream",
            headers={"Content-Disposition": 'attachment; filename="pseudonyms.key"'},
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    # ------------------------------------------------------------------ draw

    def draw_page(self, request: Request, project_id: str) -> HTMLResponse:
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        return self.page(request, "draw.html", project=project, problems=[], form={})

    def draw_request(
        self, project: Project, algorithm: str, k: str, households: str, diversity: str = ""
    ) -> tuple[dict[str, Any], list[str]]:
        """What a draw or a commitment asks for, and the problems with it."""
        problems: list[str] = []
        within = None
        if diversity.strip():
            try:
                within = float(diversity)
            except ValueError:
                within = -1.0
            if not 0.0 <= within < math.inf:
                problems.append(_("the diversity fraction must be a number of 0 or more"))
            elif algorithm not in sortition.DIVERSITY_WITHIN_ALGORITHMS:
                problems.append(
                    _("the diversity fraction applies to LEXIMIN, MAXIMIN, NASH and GOLDILOCKS")
                )
        if not project.ready:
            problems.append(_("upload the pool and the quotas, and set k, first"))
        if algorithm not in sortition.ALGORITHMS:
            problems.append(_("choose one of the algorithms"))
        try:
            k_value = int(k) if k.strip() else (project.settings.k or 0)
        except ValueError:
            k_value = 0
        if k_value < 1:
            problems.append(_("the panel size k must be a whole number of 1 or more"))
        with_households = bool(households) and bool(project.settings.household_columns)
        asked = {"algorithm": algorithm, "k": k_value, "households": with_households}
        if within is not None:
            asked["diversity_within"] = within
        return asked, problems

    def read_draw_form(
        self,
        project: Project,
        form: dict[str, str],
        algorithm: str,
        k: str,
        households: str,
        publish_types: str,
        min_type_size: str,
        diversity_within: str,
    ) -> tuple[dict[str, Any], int | None, list[str]]:
        """The Draw form's choices shared by a one-step draw and a commitment: added to ``form``
        (shown again beside the problems), and what they ask for, the smallest published type
        (None: no type counts) and the problems with them."""
        form.update(
            algorithm=algorithm,
            k=k,
            households=households,
            publish_types=publish_types,
            min_type_size=min_type_size,
            diversity_within=diversity_within,
        )
        asked, problems = self.draw_request(project, algorithm, k, households, diversity_within)
        threshold, type_problems = self.types_request(project, asked, publish_types, min_type_size)
        return asked, threshold, problems + type_problems

    def types_request(
        self, project: Project, asked: dict[str, Any], publish_types: str, min_type_size: str
    ) -> tuple[int | None, list[str]]:
        """``--publish-types --min-type-size T`` from the draw form: T, or None when the
        organiser did not ask for type counts; and the problems with it (docs/privacy.md 7)."""
        if not publish_types:
            return None, []
        problems: list[str] = []
        if privacy_key(project) is None:
            problems.append(
                _(
                    "publishing type counts needs the project's pseudonym key (made when the "
                    "ids look personal)"
                )
            )
        if asked["algorithm"] == "legacy":
            problems.append(_("publishing type counts needs a fair algorithm, not LEGACY"))
        if asked["households"]:
            problems.append(_("publishing type counts does not go with one person per household"))
        if asked["algorithm"] == "diversimax" or "diversity_within" in asked:
            problems.append(
                _("publishing type counts does not go with DIVERSIMAX or a diversity fraction yet")
            )
        try:
            threshold = (
                int(min_type_size) if min_type_size.strip() else sortition.DEFAULT_MIN_TYPE_SIZE
            )
        except ValueError:
            threshold = 0
        if threshold < 1:
            problems.append(_("the smallest published type must be a whole number of 1 or more"))
        return threshold, problems

    def read_seed(self, kind: str, seed: str) -> tuple[sortition.Seed | None, list[str]]:
        if not seed.strip():
            return None, [_("enter the seed: the dice rolled or the words drawn in public")]
        try:
            chosen = (
                sortition.seed_from_dice(seed) if kind == "dice" else sortition.seed_from_text(seed)
            )
        except sortition.SortitionError as error:
            return None, [problem_text(p) for p in error.problems]
        return chosen, []

    def draw(
        self,
        request: Request,
        project_id: str,
        algorithm: Annotated[str, Form()] = sortition.DEFAULT_ALGORITHM,
        k: Annotated[str, Form()] = "",
        households: Annotated[str, Form()] = "",
        seed_kind: Annotated[str, Form()] = "text",
        seed: Annotated[str, Form()] = "",
        publish_types: Annotated[str, Form()] = "",
        min_type_size: Annotated[str, Form()] = "",
        diversity_within: Annotated[str, Form()] = "",
    ) -> Response:
        """Draw in one step (``sortition select``), in the background."""
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        self.use_language(request)
        form = {"seed_kind": seed_kind, "seed": seed}
        asked, threshold, problems = self.read_draw_form(
            project, form, algorithm, k, households, publish_types, min_type_size, diversity_within
        )
        chosen, seed_problems = self.read_seed(seed_kind, seed)
        problems += seed_problems
        if problems or chosen is None:
            return self.page(
                request, "draw.html", status=400, project=project, problems=problems, form=form
            )
        settings = {**asked, **keyed(project), "steps": 1, "seed_kind": seed_kind, "seed": seed}
        if threshold is not None:
            settings["publish_types"] = threshold
        project, run = self.projects.start_run(project, settings)
        out = project.run_folder(run)

        def work(job: Job) -> None:
            loaded = project.load(k=asked["k"], households=asked["households"])
            selection = select_with_key(
                project, loaded, algorithm, chosen, job, threshold, asked.get("diversity_within")
            )
            with excel_csv_like(project.pool_path):
                sortition.write_selection(selection, out)

        return self.launch(request, project, run, work)

    def commit(
        self,
        request: Request,
        project_id: str,
        algorithm: Annotated[str, Form()] = sortition.DEFAULT_ALGORITHM,
        k: Annotated[str, Form()] = "",
        households: Annotated[str, Form()] = "",
        publish_types: Annotated[str, Form()] = "",
        min_type_size: Annotated[str, Form()] = "",
        diversity_within: Annotated[str, Form()] = "",
    ) -> Response:
        """The first of two steps (``sortition commit``): fix everything but the seed, in the
        background; the run's page then shows the SHA-256 to publish."""
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        self.use_language(request)
        form: dict[str, str] = {}
        asked, threshold, problems = self.read_draw_form(
            project, form, algorithm, k, households, publish_types, min_type_size, diversity_within
        )
        if problems:
            return self.page(
                request, "draw.html", status=400, project=project, problems=problems, form=form
            )
        settings = {**asked, **keyed(project), "steps": 2}
        if threshold is not None:
            settings["publish_types"] = threshold
        project, run = self.projects.start_run(project, settings)
        out = project.commitment_folder(run)

        def work(job: Job) -> None:
            loaded = project.load(k=asked["k"], households=asked["households"])
            commitment = commit_with_key(
                project, loaded, algorithm, job, threshold, asked.get("diversity_within")
            )
            with excel_csv_like(project.pool_path):
                sortition.write_commitment(commitment, out)

        return self.launch(request, project, run, work)

    async def draw_committed(
        self,
        request: Request,
        project_id: str,
        run: str,
        seed_kind: Annotated[str, Form()] = "dice",
        seed: Annotated[str, Form()] = "",
        beacon: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        """The second step (``sortition draw``): the seed that did not exist when the SHA-256
        was published: dice, words, or a saved beacon pulse."""
        project = self.mine(request, project_id)
        commitment = None if project is None else project.run_file(run, "commitment.json")
        if project is None or commitment is None:
            return self.missing(request)
        self.use_language(request)
        if project.run_file(run, "record.json") is not None:
            return to(f"/p/{project.id}/runs/{run}")
        problems: list[str] = []
        chosen: sortition.Seed | None = None
        shown = seed
        if seed_kind == "beacon":
            if beacon is None or not beacon.filename:
                problems.append(_("choose the saved beacon pulse (a .json file)"))
            else:
                try:
                    content = await read_limited(beacon)
                except UploadTooLarge:
                    content = b""
                    problems.append(_("the beacon file is too large"))
                if not problems:
                    chosen, problems = await run_sync(
                        self.read_beacon, project, beacon.filename, content
                    )
                    shown = beacon.filename
        else:
            chosen, problems = self.read_seed(seed_kind, seed)
        if problems or chosen is None:
            return self.run_view(request, project, run, status=400, seed_problems=problems)
        digest = sha256_of(commitment)
        key = run_key(project, run)
        found = next((r for r in project.runs() if r["id"] == run), {})
        out, pool = project.run_folder(run), project.pool_path
        try:
            if found.get("kind") == "replace":
                await run_sync(draw_replacement_round, commitment, chosen, pool, digest, key, out)
            else:
                result = await run_sync(
                    sortition.draw_committed, commitment, chosen, pool, digest, key
                )
                await run_sync(write_committed_draw, result, out, pool)
        except sortition.SortitionError as error:
            problems = [problem_text(p) for p in error.problems]
            return self.run_view(request, project, run, status=400, seed_problems=problems)
        self.projects.update_run(project, run, seed_kind=seed_kind, seed=shown)
        return to(f"/p/{project.id}/runs/{run}")

    def read_beacon(
        self, project: Project, name: str, content: bytes
    ) -> tuple[sortition.Seed | None, list[str]]:
        base = name.replace("\\", "/").rsplit("/", 1)[-1].lstrip(".")[:100] or "beacon.json"
        with tempfile.TemporaryDirectory(dir=project.folder) as scratch:
            path = Path(scratch) / base
            path.write_bytes(content)
            try:
                return sortition.seed_from_beacon(path), []
            except sortition.SortitionError as error:
                return None, [problem_text(p) for p in error.problems]

    # ------------------------------------------------------------------ replacements

    def replace_page(self, request: Request, project_id: str) -> HTMLResponse:
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        return self.chain_form(request, "replace.html", project, {}, [])

    async def replace(
        self,
        request: Request,
        project_id: str,
        builds_on: Annotated[str, Form()] = "",
        algorithm: Annotated[str, Form()] = sortition.DEFAULT_ALGORITHM,
        dropouts: Annotated[str, Form()] = "",
        dropouts_file: Annotated[UploadFile | None, File()] = None,
        unavailable: Annotated[str, Form()] = "",
        unavailable_file: Annotated[UploadFile | None, File()] = None,
        seed_kind: Annotated[str, Form()] = "text",
        seed: Annotated[str, Form()] = "",
    ) -> Response:
        """Replace dropouts in one step (``sortition replace``), in the background."""
        form = {"builds_on": builds_on, "algorithm": algorithm, "dropouts": dropouts}
        form.update(unavailable=unavailable, seed_kind=seed_kind, seed=seed)
        files = {"dropouts": dropouts_file, "unavailable": unavailable_file}
        return await self.start_replacement(request, project_id, form, files, steps=1)

    async def commit_replace(
        self,
        request: Request,
        project_id: str,
        builds_on: Annotated[str, Form()] = "",
        algorithm: Annotated[str, Form()] = sortition.DEFAULT_ALGORITHM,
        dropouts: Annotated[str, Form()] = "",
        dropouts_file: Annotated[UploadFile | None, File()] = None,
        unavailable: Annotated[str, Form()] = "",
        unavailable_file: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        """The first of two steps (``sortition replace --commit-only``): fix the round, the
        dropouts, the candidates and the derived quotas, in the background; the run's page then
        shows the SHA-256 to publish, and takes the seed afterwards."""
        form = {"builds_on": builds_on, "algorithm": algorithm, "dropouts": dropouts}
        form.update(unavailable=unavailable)
        files = {"dropouts": dropouts_file, "unavailable": unavailable_file}
        return await self.start_replacement(request, project_id, form, files, steps=2)

    async def start_replacement(
        self,
        request: Request,
        project_id: str,
        form: dict[str, str],
        files: dict[str, UploadFile | None],
        steps: int,
    ) -> Response:
        """Check a replacement request (the record it builds on, the algorithm, the lists and,
        in one step, the seed) before anything is written: every problem is shown beside the
        form. Then number the run and start its work (one step: the replacements; two: the
        commitment)."""
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        self.use_language(request)
        problems: list[str] = []
        bases = {base["id"]: base for base in replacement_bases(project)}
        base = bases.get(form["builds_on"])
        if base is None:
            problems.append(_("choose the draw or the replacement round to build on"))
        if form["algorithm"] not in sortition.ALGORITHMS:
            problems.append(_("choose one of the algorithms"))
        if project.pool_path is None:
            problems.append(_("upload the pool and the quotas, and set k, first"))
        uploads: dict[str, tuple[str, bytes] | None] = {}
        for what, upload_file in files.items():
            content, upload_problems = await self.id_list_upload(upload_file)
            uploads[what] = content
            problems += upload_problems
        chosen: sortition.Seed | None = None
        if steps == 1:
            chosen, seed_problems = self.read_seed(form["seed_kind"], form["seed"])
            problems += seed_problems
        checked: tuple[sortition.IdList, sortition.IdList, int] | None = None
        key = None
        pool = project.pool_path
        if not problems and base is not None and pool is not None:
            key = run_key(project, base["id"])
            typed = {"dropouts": _("dropouts (typed)"), "unavailable": _("unavailable (typed)")}
            found = await run_sync(
                read_round_lists, project, base["record"], pool, form, uploads, typed, key
            )
            if isinstance(found, list):
                problems += found
            else:
                checked = found
        if problems or base is None or checked is None or pool is None:
            return self.chain_form(request, "replace.html", project, form, problems, 400)
        dropout_ids, unavailable_ids, round_number = checked
        record: Path = base["record"]
        algorithm = form["algorithm"]
        settings: dict[str, Any] = {
            "kind": "replace",
            "algorithm": algorithm,
            "k": len(dropout_ids.ids),
            "builds_on": base["id"],
            "builds_on_kind": base["kind"] or "draw",
            "round": round_number,
            "dropouts": len(dropout_ids.ids),
            "unavailable": len(unavailable_ids.ids),
            "steps": steps,
        }
        if key is not None:
            settings["pseudonym_key"] = key.fingerprint
        if steps == 1:
            settings.update(seed_kind=form["seed_kind"], seed=form["seed"])
        project, run = self.projects.start_run(project, settings)
        out = project.run_folder(run) if steps == 1 else project.commitment_folder(run)
        seed = chosen

        def work(job: Job) -> None:
            common: dict[str, Any] = {
                "algorithm": algorithm,
                "progress": job.progress,
                "pseudonym_key": key,
                "ids_are_public": key is None,  # the record built on already names them so
            }
            with excel_csv_like(pool):
                if seed is None:
                    commitment = sortition.commit_replacement(
                        record, pool, dropout_ids, unavailable_ids, **common
                    )
                    sortition.write_replacement_commitment(commitment, out)
                else:
                    replacement = sortition.replace(
                        record, pool, dropout_ids, seed, unavailable_ids, **common
                    )
                    sortition.write_replacement(replacement, out)

        return self.launch(request, project, run, work)

    async def id_list_upload(
        self, upload_file: UploadFile | None
    ) -> tuple[tuple[str, bytes] | None, list[str]]:
        """An uploaded list of ids (one a line, as ``replace --dropouts`` reads it): its name
        and bytes (None when none was chosen), or the problems."""
        if upload_file is None or not upload_file.filename:
            return None, []
        name: str | None = upload_file.filename.replace("\\", "/").rsplit("/", 1)[-1]
        name = (name or "").strip().lstrip(".")
        if not name.lower().endswith(ID_LIST_SUFFIXES) or len(name) > 120:
            name = None
        refusal = _(
            "%(file)s: choose a text file (.txt or .csv) with one id a line",
            file=upload_file.filename,
        )
        return await named_upload(upload_file, name, refusal)

    # ------------------------------------------------------------------ alternates

    def alternates_page(self, request: Request, project_id: str) -> HTMLResponse:
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        return self.chain_form(request, "alternates.html", project, {}, [])

    async def alternates(
        self,
        request: Request,
        project_id: str,
        builds_on: Annotated[str, Form()] = "",
        budget: Annotated[str, Form()] = "",
        model: Annotated[str, Form()] = "rate",
        rate: Annotated[str, Form()] = "",
        model_file: Annotated[UploadFile | None, File()] = None,
        scenarios: Annotated[str, Form()] = "",
        evaluation: Annotated[str, Form()] = "",
        seed_kind: Annotated[str, Form()] = "text",
        seed: Annotated[str, Form()] = "",
    ) -> Response:
        """Alternates for a drawn panel (``sortition alternates``), in the background: the set
        that, whoever drops out, restores the quotas best, compared with the two baselines."""
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        self.use_language(request)
        form = {"builds_on": builds_on, "budget": budget, "model": model, "rate": rate}
        form.update(scenarios=scenarios, evaluation=evaluation, seed_kind=seed_kind, seed=seed)
        problems: list[str] = []
        base = {b["id"]: b for b in replacement_bases(project)}.get(builds_on)
        if base is None:
            problems.append(_("choose the draw or the replacement round to build on"))
        counts = {
            "budget": whole_number(budget, None, 1, 1_000_000),
            "scenarios": whole_number(scenarios, 100, 1, 2000),
            "evaluation": whole_number(evaluation, 1000, 1, 100_000),
        }
        if counts["budget"] is None:
            problems.append(_("the number of alternates must be a whole number of 1 or more"))
        if counts["scenarios"] is None:
            problems.append(_("the number of scenarios must be a whole number from 1 to 2,000"))
        if counts["evaluation"] is None:
            problems.append(
                _("the number of fresh scenarios must be a whole number from 1 to 100,000")
            )
        rate_value: float | None = None
        upload: tuple[str, bytes] | None = None
        if model == "rate":
            try:
                rate_value = float(rate)
            except ValueError:
                rate_value = -1.0
            if not 0.0 <= rate_value < 1.0:
                problems.append(
                    _("the dropout rate must be a number from 0 to below 1, for example 0.1")
                )
        elif model in ("per-value", "fitted"):
            name = None if model_file is None else safe_file_name(model_file.filename or "")
            if model_file is None or not model_file.filename:
                problems.append(_("choose the file of the dropout model"))
            else:
                refusal = _(
                    "%(file)s: choose a CSV (.csv) or Excel (.xlsx) file", file=model_file.filename
                )
                upload, upload_problems = await named_upload(model_file, name, refusal)
                problems += upload_problems
        else:
            problems.append(_("choose the dropout model"))
        chosen, seed_problems = self.read_seed(seed_kind, seed)
        problems += seed_problems
        dropout_model: sortition.DropoutModel | None = None
        pool = project.pool_path
        if pool is None:
            problems.append(_("upload the pool and the quotas, and set k, first"))
        key = None if base is None else run_key(project, base["id"])
        if not problems and base is not None:
            found = await run_sync(
                read_dropout_model, project, base["record"], rate_value, model, upload
            )
            if isinstance(found, list):
                problems += [problem_text(p) for p in found]
            else:
                dropout_model = found
        if not problems and base is not None and pool is not None and counts["budget"]:
            problems += await run_sync(
                alternates_problems, base["record"], pool, counts["budget"], key
            )
        budget_n, scenarios_n, evaluation_n = (
            counts["budget"],
            counts["scenarios"],
            counts["evaluation"],
        )
        if (
            problems
            or base is None
            or dropout_model is None
            or chosen is None
            or pool is None
            or budget_n is None
            or scenarios_n is None
            or evaluation_n is None
        ):
            return self.chain_form(request, "alternates.html", project, form, problems, 400)
        record: Path = base["record"]
        settings: dict[str, Any] = {
            "kind": "alternates",
            "algorithm": "alternates",
            "k": None,
            **counts,
            "model": dropout_model.kind,
            "rate": rate_value,
            "builds_on": base["id"],
            "builds_on_kind": base["kind"] or "draw",
            "seed_kind": seed_kind,
            "seed": seed,
        }
        if key is not None:
            settings["pseudonym_key"] = key.fingerprint
        project, run = self.projects.start_run(project, settings)
        out = project.run_folder(run)
        chosen_model, seed_value = dropout_model, chosen
        asked: tuple[int, int, int] = (budget_n, scenarios_n, evaluation_n)

        def work(job: Job) -> None:
            result = sortition.alternates(
                record,
                pool,
                asked[0],
                chosen_model,
                seed_value,
                scenarios=asked[1],
                evaluation=asked[2],
                pseudonym_key=key,
                ids_are_public=key is None,
            )
            with excel_csv_like(pool):
                sortition.write_alternates(result, out)

        return self.launch(request, project, run, work)

    # ------------------------------------------------------------------ groups

    def groups_page(self, request: Request, project_id: str) -> HTMLResponse:
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        return self.groups_form(request, project, {}, [])

    def groups_form(
        self,
        request: Request,
        project: Project,
        form: dict[str, Any],
        problems: list[str],
        status: int = 200,
    ) -> HTMLResponse:
        """The Seat at tables form: the panels to seat (draws and replacement rounds), and the
        columns of their files to balance, keep apart or show as names."""
        bases = replacement_bases(project)
        columns = panel_columns(project, bases)
        features = {
            row["feature"] for row in (project.settings.extra.get("summary") or {}).get("table", [])
        }
        if not form:  # a fresh form: balance the quota features
            form = {"balance": [c for c in columns if c in features]}
        return self.form_view(
            request, "groups.html", project, form, problems, status, bases=bases, columns=columns
        )

    async def groups(
        self,
        request: Request,
        project_id: str,
        builds_on: Annotated[str, Form()] = "",
        layout: Annotated[str, Form()] = "size",
        size: Annotated[str, Form()] = "",
        tables: Annotated[str, Form()] = "",
        rounds: Annotated[str, Form()] = "",
        balance: Annotated[list[str] | None, Form()] = None,
        apart: Annotated[list[str] | None, Form()] = None,
        name_column: Annotated[str, Form()] = "",
        together_file: Annotated[UploadFile | None, File()] = None,
        fixed_file: Annotated[UploadFile | None, File()] = None,
        seed_kind: Annotated[str, Form()] = "text",
        seed: Annotated[str, Form()] = "",
    ) -> Response:
        """Seat a drawn panel at tables (``sortition groups``), in the background: the request
        checked first (``sortition.check_seating``), so that a bad one writes nothing."""
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        self.use_language(request)
        bases = replacement_bases(project)
        columns = panel_columns(project, bases)
        form: dict[str, Any] = {"builds_on": builds_on, "layout": layout, "size": size}
        form.update(tables=tables, rounds=rounds, balance=balance or [], apart=apart or [])
        form.update(name_column=name_column, seed_kind=seed_kind, seed=seed)
        problems: list[str] = []
        base = {b["id"]: b for b in bases}.get(builds_on)
        panel = None if base is None else project.run_file(base["id"], "selected.csv")
        if base is None or panel is None:
            problems.append(_("choose the draw or the replacement round to build on"))
        count: int | None = None
        if layout == "size":
            count = whole_number(size, None, 1, 100_000)
            if count is None:
                problems.append(_("the people a table must be a whole number of 1 or more"))
        elif layout == "tables":
            count = whole_number(tables, None, 1, 100_000)
            if count is None:
                problems.append(_("the number of tables must be a whole number of 1 or more"))
        else:
            problems.append(_("choose the size of the tables or their number"))
        rounds_n = whole_number(rounds, 1, 1, 1000)
        if rounds_n is None:
            problems.append(_("the number of rounds must be a whole number from 1 to 1,000"))
        chosen_columns = [*form["balance"], *form["apart"], *([name_column] if name_column else [])]
        if any(c not in columns for c in chosen_columns):
            problems.append(_("choose the columns among those of the panel's file"))
        uploads: dict[str, tuple[str, bytes]] = {}
        for what, upload_file in (("together", together_file), ("fixed", fixed_file)):
            if upload_file is None or not upload_file.filename:
                continue
            refusal = _(
                "%(file)s: choose a CSV (.csv) or Excel (.xlsx) file", file=upload_file.filename
            )
            name = safe_file_name(upload_file.filename)
            content, upload_problems = await named_upload(upload_file, name, refusal)
            problems += upload_problems
            if content is not None:
                uploads[what] = content
        chosen, seed_problems = self.read_seed(seed_kind, seed)
        problems += seed_problems
        key = None if base is None else run_key(project, base["id"])
        asked: dict[str, Any] = {
            "rounds": rounds_n,
            "size": count if layout == "size" else None,
            "tables": count if layout == "tables" else None,
            "balance": list(form["balance"]),
            "apart": list(form["apart"]),
            "id_column": None if base is None else root_id_column(project, base),
            "name_column": name_column or None,
            "pseudonym_key": key,
            "ids_are_public": key is None,
        }
        if not problems and panel is not None:
            problems += await run_sync(check_seating_request, project, panel, asked, uploads)
        if problems or base is None or panel is None or chosen is None:
            return self.groups_form(request, project, form, problems, 400)
        settings: dict[str, Any] = {
            "kind": "groups",
            "algorithm": "groups",
            "k": None,
            "builds_on": base["id"],
            "builds_on_kind": base["kind"] or "draw",
            "rounds": rounds_n,
            "layout": layout,
            "size": asked["size"],
            "tables": asked["tables"],
            "balance": asked["balance"],
            "apart": asked["apart"],
            "name_column": asked["name_column"],
            "together": "together" in uploads,
            "fixed": "fixed" in uploads,
            "seed_kind": seed_kind,
            "seed": seed,
        }
        if key is not None:
            settings["pseudonym_key"] = key.fingerprint
        project, run = self.projects.start_run(project, settings)
        out = project.run_folder(run)
        seat_seed, seat_panel_path = chosen, panel

        def work(job: Job) -> None:
            with rule_files(project, uploads) as paths:
                result = sortition.seat_panel(seat_panel_path, seed=seat_seed, **asked, **paths)
                # as the command: a mark on any input CSV file marks the CSV files written
                inputs = [seat_panel_path, *paths.values()]
                marked = any(sortition.starts_with_bom(path) for path in inputs)
            with sortition.csv_byte_order_mark(marked):
                sortition.write_groups(result, out)

        return self.launch(request, project, run, work)

    def audit_page(self, request: Request, project_id: str) -> HTMLResponse:
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        return self.audit_form(request, project, {}, [])

    def audit_form(
        self,
        request: Request,
        project: Project,
        form: dict[str, Any],
        problems: list[str],
        status: int = 200,
    ) -> HTMLResponse:
        return self.form_view(
            request,
            "audit.html",
            project,
            form,
            problems,
            status,
            audit_algorithms=sortition.AUDIT_ALGORITHMS,
            default_algorithms=sortition.DEFAULT_AUDIT_ALGORITHMS,
            default_draws=AUDIT_DRAWS,
        )

    def chain_form(
        self,
        request: Request,
        template: str,
        project: Project,
        form: dict[str, Any],
        problems: list[str],
        status: int = 200,
    ) -> HTMLResponse:
        """A form that builds on a drawn panel (replacements, alternates): ``form_view`` with
        the draws and replacement rounds to build on."""
        bases = replacement_bases(project)
        return self.form_view(request, template, project, form, problems, status, bases=bases)

    def form_view(
        self,
        request: Request,
        template: str,
        project: Project,
        form: dict[str, Any],
        problems: list[str],
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        """A project's form page: the choices made so far (``form``) and the problems with them
        beside it (status 400 when there are some)."""
        return self.page(
            request,
            template,
            status=status,
            project=project,
            form=form,
            problems=problems,
            **context,
        )

    def audit(
        self,
        request: Request,
        project_id: str,
        algorithms: Annotated[list[str] | None, Form()] = None,
        draws: Annotated[str, Form()] = "",
        k: Annotated[str, Form()] = "",
        households: Annotated[str, Form()] = "",
        seed: Annotated[str, Form()] = "",
    ) -> Response:
        """How fair each algorithm is for every volunteer (``sortition audit``), in the
        background; the report is shown in the page."""
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        self.use_language(request)
        chosen = [a for a in sortition.AUDIT_ALGORITHMS if a in (algorithms or [])]
        form = {
            "algorithms": chosen,
            "draws": draws,
            "k": k,
            "households": households,
            "seed": seed,
        }
        asked, problems = self.draw_request(project, sortition.DEFAULT_ALGORITHM, k, households)
        if not chosen:
            problems.append(_("choose at least one algorithm to audit"))
        try:
            draw_count = int(draws) if draws.strip() else AUDIT_DRAWS
        except ValueError:
            draw_count = 0
        if not 1 <= draw_count <= 1_000_000:
            problems.append(_("the number of draws must be a whole number from 1 to 1,000,000"))
        if not seed.strip():
            problems.append(_("enter a seed for the audit's draws (any words)"))
        if problems:
            return self.audit_form(request, project, form, problems, status=400)
        asked = {
            **asked,
            "kind": "audit",
            "algorithms": chosen,
            "draws": draw_count,
            "seed": seed,
            "algorithm": "audit",
            **keyed(project),
        }
        project, run = self.projects.start_run(project, asked)
        out = project.run_folder(run)

        def work(job: Job) -> None:
            loaded = project.load(k=asked["k"], households=asked["households"])
            result = sortition.run_audit(
                loaded, chosen, seed, draws=draw_count, progress=job.progress
            )
            with excel_csv_like(project.pool_path):
                sortition.write_audit(result, out)

        return self.launch(request, project, run, work)

    def keep(self, job: Job) -> None:
        """A failed or cancelled run's outcome, in runs/<n>.json (a page restarted later, or a
        job forgotten, still shows it)."""
        if job.state in (job_states.FAILED, job_states.CANCELLED):
            folder = self.projects.data / job.project
            if (folder / "runs" / f"{job.run}.json").is_file():
                self.projects.update_run_file(
                    folder,
                    job.run,
                    outcome={
                        "state": job.state,
                        "heading": job.heading,
                        "problems": job.problems,
                        "advice": job.advice,
                    },
                )

    def invite_page(self, request: Request, project_id: str) -> HTMLResponse:
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        return self.page(request, "invite.html", project=project, form={}, problems=[])

    async def invite(
        self,
        request: Request,
        project_id: str,
        registry: Annotated[UploadFile | None, File()] = None,
        letters: Annotated[str, Form()] = "",
        id_column: Annotated[str, Form()] = "id",
        household_columns: Annotated[str, Form()] = "",
        stratify_by: Annotated[str, Form()] = "",
        weights: Annotated[str, Form()] = "",
        seed_kind: Annotated[str, Form()] = "dice",
        seed: Annotated[str, Form()] = "",
    ) -> Response:
        """Stage 1, the invitation lottery (``sortition invite``), in the background: who of
        the registry gets a letter."""
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        self.use_language(request)
        form = {
            "letters": letters,
            "id_column": id_column,
            "household_columns": household_columns,
            "stratify_by": stratify_by,
            "weights": weights,
            "seed_kind": seed_kind,
            "seed": seed,
        }
        content, problems = await self.registry_upload(registry)
        if content is None and not problems and project.registry_path is None:
            problems.append(_("choose the registry to draw the letters from"))
        try:
            letter_count = int(letters)
        except ValueError:
            letter_count = 0
        if letter_count < 1:
            problems.append(_("the number of letters must be a whole number of 1 or more"))
        strata = stratify_by.strip() or None
        weight_map, weight_problems = self.parse_weights(weights, strata)
        problems += weight_problems
        chosen, seed_problems = self.read_seed(seed_kind, seed)
        problems += seed_problems
        if problems or chosen is None:
            return self.page(
                request, "invite.html", status=400, project=project, form=form, problems=problems
            )
        if content is not None:
            project = await run_sync(self.projects.store_input, project, "registry", *content)
        columns = tuple(c.strip() for c in household_columns.split(",") if c.strip())
        asked = {
            "kind": "invite",
            "algorithm": "invite",
            "letters": letter_count,
            "id_column": id_column.strip() or "id",
            "household_columns": list(columns),
            "stratify_by": strata,
            "weights": weights.strip(),
            "seed_kind": seed_kind,
            "seed": seed,
            "k": None,
        }
        run = self.start_invite(request, project, asked, chosen, weight_map)
        return to(f"/p/{project.id}/runs/{run}")

    async def registry_upload(
        self, registry: UploadFile | None
    ) -> tuple[tuple[str, bytes] | None, list[str]]:
        """The uploaded registry's name and bytes (None when none was chosen), or the problems."""
        if registry is None or not registry.filename:
            return None, []
        name = safe_file_name(registry.filename)
        if name is not None and not name.lower().endswith(".csv"):
            name = None
        refusal = _("%(file)s: the registry must be a CSV (.csv) file", file=registry.filename)
        return await named_upload(registry, name, refusal)

    def start_invite(
        self,
        request: Request,
        project: Project,
        asked: dict[str, Any],
        seed: sortition.Seed,
        weights: dict[str, Fraction] | None,
    ) -> str:
        """Number the letter draw and start it in the background; returns the run's number."""
        path = project.registry_path
        assert path is not None
        project, run = self.projects.start_run(project, {**asked, "registry": path.name})
        out = project.run_folder(run)

        def work(job: Job) -> None:
            result = sortition.invite(
                path,
                asked["letters"],
                seed,
                id_column=asked["id_column"],
                household_columns=asked["household_columns"],
                stratify_by=asked["stratify_by"],
                weights=weights,
                progress=job.progress,
            )
            with excel_csv_like(path):
                sortition.write_invitations(result, out)

        self.running.start(project.id, run, session_digest(request.state.session), work, self.keep)
        return run

    def parse_weights(
        self, text: str, stratify_by: str | None
    ) -> tuple[dict[str, Fraction] | None, list[str]]:
        """One ``VALUE: WEIGHT`` a line (``North: 1.5``) for the strata of ``stratify_by``."""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            return None, []
        if stratify_by is None:
            return None, [_("weights need the column to stratify by")]
        weights: dict[str, Fraction] = {}
        problems = []
        for line in lines:
            value, colon, weight = line.rpartition(":")
            try:  # a decimal number, as the command's --weight takes
                number = Fraction(weight.strip()) if "/" not in weight else Fraction(-1)
            except ValueError:
                number = Fraction(-1)
            if not colon or not value.strip() or number <= 0:
                problems.append(
                    _(
                        "weight %(line)s: write VALUE: WEIGHT, a positive number, e.g. North: 1.5",
                        line=repr(line),
                    )
                )
            else:
                weights[value.strip()] = number
        return weights, problems

    def run_state(self, project: Project, run: str) -> tuple[str, Job | None]:
        job = self.running.for_run(project.id, run)
        if job is not None and (job.state != job_states.DONE or job.result is not None):
            return job.state, job  # (a verification done leaves its report, and no folder)
        if project.run_folder(run).is_dir():  # written all at once: there means complete
            return job_states.DONE, job
        if project.run_file(run, "commitment.json") is not None:
            return "committed", job
        found = next((r for r in project.runs() if r["id"] == run), {})
        outcome = found.get("outcome") or {}
        return outcome.get("state", "stopped"), job

    def run_page(self, request: Request, project_id: str, run: str) -> HTMLResponse:
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        return self.run_view(request, project, run)

    def run_view(
        self,
        request: Request,
        project: Project,
        run: str,
        status: int = 200,
        seed_problems: list[str] | None = None,
    ) -> HTMLResponse:
        found = next((r for r in project.runs() if r["id"] == run), None)
        if found is None:
            return self.missing(request)
        state, job = self.run_state(project, run)
        self.use_language(request)
        commitment = project.run_file(run, "commitment.json")
        outcome = job if job is not None else found.get("outcome") or {}
        stored = outcome.advice if isinstance(outcome, Job) else outcome.get("advice", [])
        k = found.get("k")
        advice = page_advice(
            [from_stored(line) for line in stored],
            project,
            k if isinstance(k, int) else None,
            bool(found.get("households", True)),
            with_command=found.get("kind") != "replace",
        )
        return self.page(
            request,
            "run.html",
            advice=advice,
            status=status,
            project=project,
            run=found,
            state=state,
            job=job,
            progress=describe_event(job.last if job else None, _),
            summary=run_summary(project, run, found.get("kind"))
            if state == job_states.DONE
            else None,
            digest=None if commitment is None else sha256_of(commitment),
            seed_problems=seed_problems or [],
        )

    def run_status(self, request: Request, project_id: str, run: str) -> Response:
        project = self.mine(request, project_id)
        if project is None:
            return JSONResponse({"state": "missing"}, status_code=404)
        state, job = self.run_state(project, run)
        self.use_language(request)
        return JSONResponse(
            {
                "state": state,
                "finished": state not in (job_states.WAITING, job_states.RUNNING),
                "text": describe_event(job.last if job else None, _),
                "seconds": round(job.seconds, 1) if job else None,
                "events": job.events if job else 0,
                "fraction": event_fraction(job.last if job else None),
            }
        )

    def cancel(self, request: Request, project_id: str, run: str) -> Response:
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        job = self.running.for_run(project.id, run)
        if job is not None:
            self.running.cancel(job)
        return to(f"/p/{project.id}/runs/{run}")

    def download(self, request: Request, project_id: str, run: str, name: str) -> Response:
        project = self.mine(request, project_id)
        if project is not None and name.endswith(".xlsx"):
            source = project.run_file(run, name.removesuffix(".xlsx") + ".csv")
            if source is not None:
                return Response(
                    csv_to_xlsx(source),
                    media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'},
                )
        path = None if project is None else project.run_file(run, name)
        if path is None:
            return self.missing(request)
        if name.endswith(".csv") and request.query_params.get("excel"):
            return Response(
                csv_for_excel(path),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        if name == "report.html" and request.query_params.get("view"):
            response: Response = FileResponse(path, media_type="text/html")
            response.headers["Content-Security-Policy"] = REPORT_POLICY
            return response
        return FileResponse(path, filename=name)

    def verify_run(self, request: Request, project_id: str, run: str) -> Response:
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        alternates = project.run_file(run, "alternates.json")
        if alternates is not None:  # the choice made again from what it embeds: seconds
            return self.verify_in_background(request, project, run, alternates)
        # a draw's selection record, a replacement round's record, or a seating's record
        record = project.run_file(run, "record.json") or project.run_file(run, "replacement.json")
        seating = project.run_file(run, "groups.json")
        found = next((r for r in project.runs() if r["id"] == run), {})
        if seating is not None:  # against the panel file it seated, with the key it used
            report = sortition.verify_record(
                seating,
                panel_path=project.run_file(str(found.get("builds_on")), "selected.csv"),
                pseudonym_key=run_key(project, run),
            )
        elif record is None:
            return self.missing(request)
        elif found.get("kind") == "invite":
            report = sortition.verify_record(record, registry_path=project.registry_path)
        else:
            report = sortition.verify_record(
                record,
                project.pool_path,
                project.quotas_path,
                pseudonym_key=run_key(project, run),
            )
        return self.page(
            request, "verify.html", report=report, problems=[], project=project, run=run
        )

    def verify_in_background(
        self, request: Request, project: Project, run: str, record: Path
    ) -> Response:
        """``sortition.verify_record`` of an alternates record, which makes the choice again
        from the record (about 9 s on the bundled example with the page's default scenarios),
        as a background job: this page shows its progress and a cancel button while it runs,
        then its checklist, once (the next visit verifies again)."""
        name = verify_job(run)
        job = self.running.for_run(project.id, name)
        if job is not None and job.state == job_states.CANCELLED:
            self.running.forget(job)
            job = None
        if job is None:

            def work(job: Job) -> None:
                job.result = sortition.verify_record(record)

            self.running.start(project.id, name, session_digest(request.state.session), work)
            return to(f"/p/{project.id}/runs/{run}/verify")
        self.use_language(request)
        if job.state not in job_states.FINISHED:
            return self.page(
                request,
                "verify.html",
                report=None,
                problems=[],
                project=project,
                run=run,
                job_state=job.state,
                status_of=name,
            )
        self.running.forget(job)
        problems = [stored_text(p) for p in job.problems]
        return self.page(
            request,
            "verify.html",
            status=400 if problems else 200,
            report=job.result,
            problems=problems,
            project=project,
            run=run,
        )

    def cancel_verify(self, request: Request, project_id: str, run: str) -> Response:
        """Stop a run's verification in the background (``verify_in_background``)."""
        project = self.mine(request, project_id)
        if project is None:
            return self.missing(request)
        job = self.running.for_run(project.id, verify_job(run))
        if job is not None:
            self.running.cancel(job)
        return to(f"/p/{project.id}/runs/{run}")

    # ------------------------------------------------------------------ verify any record

    def verify_page(self, request: Request) -> HTMLResponse:
        return self.page(request, "verify.html", report=None, problems=[])

    async def verify_upload(
        self,
        request: Request,
        record: Annotated[UploadFile | None, File()] = None,
        pool: Annotated[UploadFile | None, File()] = None,
        quotas: Annotated[UploadFile | None, File()] = None,
        key: Annotated[UploadFile | None, File()] = None,
    ) -> HTMLResponse:
        self.use_language(request)
        scratch_root = self.projects.data / ".verify"
        scratch_root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=scratch_root))
        try:
            paths: dict[str, Path | None] = {
                "record": None,
                "pool": None,
                "quotas": None,
                "key": None,
            }
            problems: list[str] = []
            uploads = (("record", record), ("pool", pool), ("quotas", quotas), ("key", key))
            for kind, upload_file in uploads:
                if upload_file is None or not upload_file.filename:
                    continue
                base = upload_file.filename.replace("\\", "/").rsplit("/", 1)[-1]
                if kind == "key":  # any name; kept only while the checklist is made
                    name: str | None = "pseudonyms.key"
                elif kind == "record":
                    name = base if base.lower().endswith(".json") and len(base) < 120 else None
                else:
                    name = safe_file_name(base)
                if name is None:
                    problems.append(_("%(file)s: not a file this page reads", file=base))
                    continue
                try:
                    content = await read_limited(upload_file)
                except UploadTooLarge:
                    problems.append(
                        _(
                            "%(file)s: the file is larger than %(mb)s MB",
                            file=name,
                            mb=MAX_UPLOAD // (1024 * 1024),
                        )
                    )
                    continue
                (scratch / kind).mkdir()
                path = scratch / kind / name.lstrip(".")
                path.write_bytes(content)
                paths[kind] = path
            record_path = paths["record"]
            if record_path is None and not problems:
                problems.append(_("choose the record (record.json) to verify"))
            report = None
            if not problems and record_path is not None:
                try:
                    report = await run_sync(
                        verify_with_key, record_path, paths["pool"], paths["quotas"], paths["key"]
                    )
                except sortition.SortitionError as error:
                    problems = [problem_text(p) for p in error.problems]
            status = 400 if problems else 200
            return self.page(
                request, "verify.html", status=status, report=report, problems=problems
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def replacement_bases(project: Project) -> list[dict[str, Any]]:
    """What a replacement round can build on, newest first: the project's finished draws (their
    record.json, a selection record) and replacement rounds (their replacement.json), each
    ``{"id", "kind", "record", "round"}`` (``round``: the round it is, 0 for a draw)."""
    bases = []
    for run in project.runs():
        kind = run.get("kind")
        if kind is None:
            record = project.run_file(run["id"], "record.json")
        elif kind == "replace":
            record = project.run_file(run["id"], "replacement.json")
        else:
            continue
        if record is not None:
            number = run.get("round", 0) if kind == "replace" else 0
            bases.append({"id": run["id"], "kind": kind, "record": record, "round": number})
    return bases


def read_round_lists(
    project: Project,
    record: Path,
    pool: Path,
    form: dict[str, str],
    uploads: dict[str, tuple[str, bytes] | None],
    typed: dict[str, str],
    key: sortition.PseudonymKey | None,
) -> tuple[sortition.IdList, sortition.IdList, int] | list[str]:
    """The dropouts and the unavailable people of a replacement request, each the uploaded
    file's ids then the typed ones (one id a line, read as ``replace --dropouts`` reads a file:
    a problem names the file, or the typed list by its name in ``typed``, and the line), checked
    against the record built on (``sortition.check_round``: with fewer candidates left than
    dropouts, its reason and advice), with the round's number; and the
    project's pool file checked against the record (``sortition.check_panel_pool``); or the
    problems, in the request's language. The lists are read in a scratch folder of the
    project, gone afterwards."""
    lists: list[sortition.IdList] = []
    with tempfile.TemporaryDirectory(dir=project.folder) as scratch:
        try:
            for what in ("dropouts", "unavailable"):
                ids = sortition.IdList()
                sources = [uploads.get(what)]
                if form.get(what, "").strip():
                    sources.append((typed[what], form[what].encode("utf-8")))
                for index, source in enumerate(sources):
                    if source is None:
                        continue
                    path = Path(scratch) / f"{what}-{index}" / source[0]
                    path.parent.mkdir()
                    path.write_bytes(source[1])
                    ids = ids + sortition.read_id_file(path)
                lists.append(ids)
            number = sortition.check_round(record, lists[0], lists[1], key)
        except sortition.SortitionError as error:
            advice = error.advice if isinstance(error, sortition.InfeasibleError) else []
            return [problem_text(p) for p in error.problems] + [problem_text(a) for a in advice]
    problems = chain_problems(
        lambda: sortition.check_panel_pool(record, pool, key, ids_are_public=key is None), pool
    )
    return problems or (lists[0], lists[1], number)


def chain_problems(check: Callable[[], object], pool: Path) -> list[str]:
    """The problems ``check`` (a check of the library on a panel's record and the project's
    pool file) raises, in the request's language; when one is the pool file's (uploaded again
    since the draw, say), what to do about it after them. None when it passes."""
    try:
        check()
    except sortition.SortitionError as error:
        problems = [problem_text(p) for p in error.problems]
        if any(getattr(p, "file", None) == pool.name for p in error.problems):
            problems.append(
                _(
                    "This needs the pool file the panel was drawn from: if the pool was uploaded "
                    "again since that draw, upload the file the panel was drawn from again, or "
                    "draw a new panel from the new pool."
                )
            )
        return problems
    return []


def draw_replacement_round(
    commitment: Path,
    seed: sortition.Seed,
    pool: Path | None,
    expect: str,
    key: sortition.PseudonymKey | None,
    out: Path,
) -> None:
    """The second step of a replacement round (``sortition draw`` of the commitment that
    ``replace --commit-only`` wrote): the commitment checked against the SHA-256 the page
    showed, the replacements drawn with ``seed``, and their files written to ``out``."""
    committed = sortition.read_replacement_commitment(commitment, expect, pool, key)
    replacement = sortition.draw_replacement(committed, seed)
    with excel_csv_like(pool):
        sortition.write_replacement(replacement, out)


def replacement_summary(path: Path) -> dict[str, Any]:
    """What a replacement round's page shows of its record: the round, the dropouts and the
    replacements, as the record names them (pseudonyms where the chain uses a key)."""
    record = json.loads(path.read_text(encoding="utf-8"))
    return {
        "round": record.get("round"),
        "dropouts": list(record.get("dropouts", [])),
        "replacements": list(record.get("replacements", [])),
        "unavailable": len(record.get("unavailable", [])),
    }


def whole_number(text: str, default: int | None, low: int, high: int) -> int | None:
    """``text`` as a whole number from ``low`` to ``high`` (``default`` when it is blank), or
    None when it is not one."""
    if not text.strip():
        return default
    try:
        number = int(text)
    except ValueError:
        return None
    return number if low <= number <= high else None


def read_dropout_model(
    project: Project,
    record: Path,
    rate: float | None,
    kind: str,
    upload: tuple[str, bytes] | None,
) -> sortition.DropoutModel | list[sortition.Problem]:
    """The dropout model of an alternates request: a uniform ``rate``, or the uploaded file of
    per-value rates (``kind`` "per-value", ``alternates --dropout-model``) or of a past panel to
    fit (``--fit-dropouts``), read against the quotas of the record built on in a scratch
    folder of the project; or the problems (the file, row and column named)."""
    try:
        if upload is None:
            return sortition.uniform_model(rate or 0.0)
        quotas = sortition.panel_quotas(record)
        with tempfile.TemporaryDirectory(dir=project.folder) as scratch:
            path = Path(scratch) / upload[0]
            path.write_bytes(upload[1])
            if kind == "per-value":
                return sortition.per_value_model(path, quotas)
            return sortition.fit_product_model(path, quotas)
    except sortition.SortitionError as error:
        return list(error.problems)


def alternates_problems(
    record: Path, pool: Path, budget: int, key: sortition.PseudonymKey | None
) -> list[str]:
    """The problems of an alternates request that ``sortition.check_alternates`` finds before
    any choice (the pool file not the panel's, more alternates than candidates), as
    ``chain_problems`` words them; none when the choice can start."""
    return chain_problems(
        lambda: sortition.check_alternates(
            record, pool, budget, pseudonym_key=key, ids_are_public=key is None
        ),
        pool,
    )


def alternates_summary(path: Path) -> dict[str, Any]:
    """What an alternates run's page shows of its record: how many were chosen, the model, and
    the figures of each set (no alternates, the chosen, the two baselines) on fresh scenarios."""
    record = json.loads(path.read_text(encoding="utf-8"))
    figures = record.get("figures", {})
    return {
        "count": len(record.get("alternates", [])),
        "model": (record.get("model") or {}).get("kind"),
        "figures": [
            {
                "method": method,
                "mean": f"{float(values['mean_deviation']):.3f}",
                "restored": f"{100 * float(values['restored_share']):.1f}",
                "worst": values["worst"],
            }
            for method, values in figures.items()
        ],
    }


def panel_columns(project: Project, bases: list[dict[str, Any]]) -> list[str]:
    """The columns of the newest panel's file (a draw's or a replacement round's
    selected.csv: the pool file's columns) but its id column, for the Seat at tables form's
    choices."""
    for base in bases:
        panel = project.run_file(base["id"], "selected.csv")
        if panel is not None:
            with panel.open(encoding="utf-8-sig", newline="") as rows:
                header = next(csv.reader(rows), [])
            return [column for column in header if column != root_id_column(project, base)]
    return []


def root_id_column(project: Project, base: dict[str, Any]) -> str | None:
    """The id column the panel's ids were read from: the pool's, as the draw that began the
    chain of replacement rounds ending at ``base`` read it (its record.json)."""
    runs = {run["id"]: run for run in project.runs()}
    run = runs.get(base["id"], {})
    while run.get("kind") == "replace":
        run = runs.get(str(run.get("builds_on")), {})
    record = project.run_file(str(run.get("id")), "record.json")
    if record is None:
        return None
    found = json.loads(record.read_text(encoding="utf-8"))
    column = found.get("inputs", {}).get("pool", {}).get("id_column")
    return column if isinstance(column, str) else None


@contextmanager
def rule_files(project: Project, uploads: dict[str, tuple[str, bytes]]) -> Iterator[dict[str, Any]]:
    """The uploaded together and fixed files (``groups --together``, ``--fixed``) in a scratch
    folder of the project, as ``seat_panel``'s ``together_path`` and ``fixed_path``; the folder
    is gone afterwards."""
    with tempfile.TemporaryDirectory(dir=project.folder) as scratch:
        paths = {}
        for what, (name, content) in uploads.items():
            path = Path(scratch) / what / name
            path.parent.mkdir()
            path.write_bytes(content)
            paths[f"{what}_path"] = path
        yield paths


def check_seating_request(
    project: Project, panel: Path, asked: dict[str, Any], uploads: dict[str, tuple[str, bytes]]
) -> list[str]:
    """The problems of a Seat at tables request (``sortition.check_seating``: the panel file's
    columns, the tables and rounds, the together and fixed files, the conflicts no seating can
    get round), in the request's language; none when it can be seated."""
    try:
        with rule_files(project, uploads) as paths:
            sortition.check_seating(panel, **asked, **paths)
    except sortition.SortitionError as error:
        return [problem_text(p) for p in error.problems]
    return []


def seating_summary(path: Path) -> dict[str, Any]:
    """What a seating's page shows of its record: the measures with their bounds, and each
    table's people in every round, by the record's ids (pseudonyms where the project has a
    key): ``tables[t][r]`` the ids at table t + 1 in round r + 1."""
    record = json.loads(path.read_text(encoding="utf-8"))
    got = record.get("result", {})
    seating: list[list[list[str]]] = record.get("seating", [])
    count = max((len(round_) for round_ in seating), default=0)
    return {
        "people": sum(len(table) for table in seating[0]) if seating else 0,
        "rounds": len(seating),
        "tables": [[round_[t] for round_ in seating] for t in range(count)],
        "repeat_pairs": got.get("repeat_pairs"),
        "repeat_bound": got.get("repeat_pairs_bound"),
        "max_deviation": None
        if got.get("max_deviation") is None
        else f"{float(got['max_deviation']):.3f}",
        "deviation_bound": None
        if got.get("max_deviation_bound") is None
        else f"{float(got['max_deviation_bound']):.3f}",
        "balanced": bool(record.get("options", {}).get("balance")),
    }


def verify_with_key(
    record: Path, pool: Path | None, quotas: Path | None, key: Path | None
) -> sortition.VerifyReport:
    """``sortition.verify_record`` of an uploaded record, with the uploaded key file if any."""
    return sortition.verify_record(record, pool, quotas, pseudonym_key=key)


def keyed(project: Project) -> dict[str, Any]:
    """What a run notes of the project's key when it uses one (its fingerprint, so that the
    second step and verification use the same key); nothing when it does not."""
    key = privacy_key(project)
    return {} if key is None else {"pseudonym_key": key.fingerprint}


def run_key(project: Project, run: str) -> sortition.PseudonymKey | None:
    """The key a run was made with (None when it named people by the pool file's own ids)."""
    found = next((r for r in project.runs() if r["id"] == run), {})
    if not found.get("pseudonym_key") or not project.key_path.is_file():
        return None
    return sortition.read_key(project.key_path)


def verify_job(run: str) -> str:
    """The name of a run's verification among the jobs (its status at ``runs/<name>/status``):
    never a run's number."""
    return f"{run}-verify"


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes (of commitment.json: what the organiser publishes)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def commit_with_key(
    project: Project,
    loaded: sortition.LoadedInput,
    algorithm: str,
    job: Job,
    min_type_size: int | None = None,
    diversity_within: float | None = None,
) -> sortition.Commitment:
    """``sortition.commit`` for a project. The project's pseudonym key (``privacy_key``) is
    already in ``loaded`` (``Project.load`` reads the pool with it), so the commitment names
    everyone by a keyed pseudonym where the ids look personal; ``min_type_size`` publishes type
    counts (``--publish-types``), ``diversity_within`` bounds the panels' diversity score."""
    return sortition.commit(
        loaded,
        algorithm,
        progress=job.progress,
        min_type_size=min_type_size,
        diversity_within=diversity_within,
    )


def select_with_key(
    project: Project,
    loaded: sortition.LoadedInput,
    algorithm: str,
    seed: sortition.Seed,
    job: Job,
    min_type_size: int | None = None,
    diversity_within: float | None = None,
) -> sortition.Selection:
    """``sortition.select`` for a project's draw, with the project's pseudonym key in
    ``loaded`` as in ``commit_with_key``: record.json, distribution.json and lottery.csv then
    name nobody, and the run's private/pseudonyms.csv holds the organiser's table."""
    return sortition.select(
        loaded,
        algorithm,
        seed,
        progress=job.progress,
        min_type_size=min_type_size,
        diversity_within=diversity_within,
    )


async def named_upload(
    upload: UploadFile, name: str | None, refusal: str
) -> tuple[tuple[str, bytes] | None, list[str]]:
    """The uploaded file's bytes under ``name`` (the caller's cleaned name for it), or the
    problem: ``refusal`` when ``name`` is None (a file of a kind the form does not take), or
    the size past ``MAX_UPLOAD``."""
    if name is None:
        return None, [refusal]
    try:
        return (name, await read_limited(upload)), []
    except UploadTooLarge:
        mb = MAX_UPLOAD // (1024 * 1024)
        return None, [_("%(file)s: the file is larger than %(mb)s MB", file=name, mb=mb)]


async def read_limited(upload: UploadFile) -> bytes:
    """The uploaded file's bytes; ``UploadTooLarge`` past ``MAX_UPLOAD``."""
    chunks, size = [], 0
    while chunk := await upload.read(1024 * 1024):
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise UploadTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def run_sync(function: Callable[..., Any], *args: Any) -> Any:
    """Blocking library work off the event loop (a thread of the pool), so others go on."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(function, *args)


def check_view(check: dict[str, Any] | None) -> dict[str, Any] | None:
    """The feasibility check kept in project.json; one kept by an older page has no
    ``changes``: its advice lines were shown as the smallest change, and still are."""
    if check is None or "changes" in check:
        return check
    lines = [line for line in check.get("advice", []) if isinstance(line, str)]
    return {**check, "changes": lines, "advice": []}


def summarise(loaded: sortition.LoadedInput) -> tuple[list[dict[str, Any]], list[str]]:
    """The quota table and the files' warnings, as the project page shows them (kept in
    project.json at the upload, so that the page does not read the pool again)."""
    return quota_table(loaded), [problem_text(warning) for warning in loaded.warnings]


def quota_table(loaded: sortition.LoadedInput) -> list[dict[str, Any]]:
    """Per quota row: feature, value, min, max, people in the pool and their share (%)."""
    quotas = loaded.instance.quotas
    pool = loaded.instance.pool
    counts = pool.value_counts(len(quotas.rows))
    return [
        {
            "feature": row.feature,
            "value": row.value,
            "min": row.min,
            "max": row.max,
            "pool": int(counts[i]),
            "share": f"{100 * int(counts[i]) / pool.size:.1f}" if pool.size else "0.0",
        }
        for i, row in enumerate(quotas.rows)
    ]


def run_summary(project: Project, run: str, kind: str | None = None) -> dict[str, Any] | None:
    """What a finished run's files say: how many were selected, and the downloads, each marked
    ``public`` (may be published) or ``private`` (docs/privacy.md, section 3): an audit's files
    are all public but the pseudonym table; a draw's and the letters' as ``PUBLIC_FILES``."""
    folder = project.run_folder(run)
    if not folder.is_dir():
        return None
    selected = folder / "selected.csv"
    count = None
    if selected.is_file():
        with selected.open(encoding="utf-8-sig", newline="") as rows:
            count = max(sum(1 for _row in csv.reader(rows)) - 1, 0)
    order = ["selected.csv", "remaining.csv", "probabilities.csv", "record.json"]
    order += ["replacement.json", "alternates.csv", "comparison.csv", "alternates.json"]
    order += ["groups.csv", "seating.html", "groups.json", "summary.json"]
    order += ["report.html"]
    names = [p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    if project.run_file(run, "commitment.json") is not None:
        names.append("commitment.json")
    if project.run_file(run, PSEUDONYM_TABLE) is not None:
        names.append(PSEUDONYM_TABLE)
    files = sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))
    shown = {n: f"{PRIVATE_FOLDER}/{n}" if n == PSEUDONYM_TABLE else n for n in files}
    public = (lambda n: n != PSEUDONYM_TABLE) if kind == "audit" else PUBLIC_FILES.__contains__
    kinds = {name: "public" if public(name) else "private" for name in files}
    record = folder / "replacement.json"
    replacement = replacement_summary(record) if record.is_file() else None
    record = folder / "alternates.json"
    alternates = alternates_summary(record) if record.is_file() else None
    record = folder / "groups.json"
    seating = seating_summary(record) if record.is_file() else None
    return {
        "selected": count,
        "files": files,
        "shown": shown,
        "kinds": kinds,
        "replacement": replacement,
        "alternates": alternates,
        "seating": seating,
    }
