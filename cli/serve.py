"""`sortition serve`: the page for organisers (docs/web.md), run with uvicorn.

The command only reads its options, makes the token when the page is reachable from other
machines, prints the address to open and runs the app that ``sortition.web.app`` builds.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from pathlib import Path

import click
from sortition_cli.examples import epilog
from sortition_cli.i18n import _, command
from sortition_cli.reporting import reports_errors

from sortition.errors import InputError, Problem
from sortition.i18n import LANGUAGES

DEFAULT_DATA = "sortition-projects"


def is_local(host: str) -> bool:
    """Whether ``host`` is a loopback address (or localhost): only this computer reaches it."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@command(epilog=epilog("serve"))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Any address but this computer's own (127.0.0.1, localhost) "
    "needs the token printed at start; docs/web.md shows a reverse proxy for a team.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--data",
    "data",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
    help="Folder that holds the projects (created; one folder per project, nothing elsewhere).",
)
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Language of the page for every browser that has not chosen one with its switch "
    "(default: the global --lang if given, else the browser's own language preference, else "
    "English).",
)
@reports_errors
def serve(host: str, port: int, data: Path, lang: str | None) -> None:
    """Start the page for organisers: projects, quotas, draws, downloads and verification in
    the browser, in English or Hebrew. Stop it with Ctrl-C (exit 0; draws still running are
    cancelled and write nothing)."""
    if lang is None:  # `sortition --lang he serve`: the global choice is the page's default too
        lang = click.get_current_context().meta.get("sortition.lang")
    try:
        import uvicorn

        from sortition.web.app import create_app
    except ImportError as missing:
        raise InputError(
            [
                Problem(
                    _(
                        "the page needs its extra packages ({package}): "
                        "pip install 'sortition[web]'"
                    ).format(package=missing.name)
                )
            ]
        ) from None
    if data.exists() and not data.is_dir():
        raise InputError([Problem(_("is not a folder"), file=str(data))])
    local = is_local(host)
    token = None if local else secrets.token_urlsafe(24)
    try:
        with socket.create_server((host.strip("[]"), port)):
            pass
    except OSError as error:
        raise InputError(
            [
                Problem(
                    _("cannot listen on {host} port {port}: {reason}").format(
                        host=host, port=port, reason=error.strerror or error
                    )
                )
            ]
        ) from None
    data.mkdir(parents=True, exist_ok=True)
    app = create_app(data, default_language=lang, token=token, local=local)
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    address = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    click.echo(_("sortition: the page is at {address}").format(address=address))
    if token:
        click.echo(_("anyone who opens it needs this address with its token; keep it private."))
    click.echo(_("projects are kept in {folder}; stop with Ctrl-C.").format(folder=data.resolve()))
    try:
        uvicorn.run(app, host=host.strip("[]"), port=port, log_level="warning", access_log=False)
    finally:
        app.state.jobs.cancel_all()  # a draw still running writes nothing
    click.echo(_("stopped."))
