"""The `sortition` console script. It installs the signal handling before anything else is
imported, so that Ctrl-C (SIGINT) and SIGTERM at any moment, start-up included, end the command
with "interrupted; nothing was written" and exit 130 (143 for SIGTERM).

Python runs a signal handler only between bytecodes of the main thread, and the solvers run in
C++ for seconds at a time. So the handler is paired with a wakeup file descriptor watched by a
small thread: the moment a signal arrives, the thread cancels the process's job
(``sortition.cancel``), which stops the running CP-SAT or GLOP solve through its own stop
mechanism; the solve returns, and the handler raises in the main thread.
"""

from __future__ import annotations

import signal
import sys

# The first thing the command does: note a signal that arrives while the rest is imported, and
# answer it once the handling below is in place. Only Python's own start-up comes before this
# line: some 20 ms, and 20-40 ms more with an editable install, whose import finder the site
# module loads (a Ctrl-C then ends Python before any of this code runs; nothing here can catch
# it). Not in a worker process that multiprocessing spawns, which runs this script as
# ``__mp_main__``: its SIGTERM must stay the default, which ends it.
_EARLY: list[int] = []
if "__mp_main__" not in sys.modules:
    signal.signal(signal.SIGINT, lambda signum, frame: _EARLY.append(signum))
    signal.signal(signal.SIGTERM, lambda signum, frame: _EARLY.append(signum))

import os  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402

from sortition.cancel import CancelToken, Interrupted, Terminated, current  # noqa: E402

_KEEP: list[socket.socket] = []


def main() -> None:
    token = current()
    token.reset()
    install_signal_handling(token)
    for signum in _EARLY:
        token.cancel(_reason(signum))
    # An interrupt inside an extension module's initialisation surfaces as an ImportError: hold
    # interrupts while the group is imported (the command's own module, with pandas and
    # OR-Tools, is imported when the command is chosen, holding them the same way:
    # sortition_cli.lazy; and run() takes any error after an interrupt for the interrupt).
    with token.holding():
        from sortition_cli.main import interrupted_message, run
    if token.cancelled:
        # in the language of --lang or the environment (read from the command line, cheaply)
        sys.stderr.write(interrupted_message(sys.argv[1:], os.environ) + "\n")
        sys.exit(token.exit_code)
    run()


def _reason(signum: int) -> type[Interrupted]:
    return Terminated if signum == signal.SIGTERM else Interrupted


def install_signal_handling(token: CancelToken) -> None:
    """SIGINT and SIGTERM cancel ``token`` at once (stopping a running solver) and raise
    ``Interrupted`` / ``Terminated`` in the main thread, except while outputs are put in place."""

    def handler(signum: int, frame: object) -> None:
        reason = _reason(signum)
        token.cancel(reason)
        if token.interruptible:
            raise reason()

    receiver, sender = socket.socketpair()
    sender.setblocking(False)

    def watch() -> None:
        while True:
            try:
                data = receiver.recv(64)
            except OSError:
                return
            if not data:
                return
            for signum in data:
                token.cancel(_reason(signum))

    threading.Thread(target=watch, name="sortition-signals", daemon=True).start()
    _KEEP.extend((receiver, sender))  # a collected socket would close the wakeup fd
    signal.set_wakeup_fd(sender.fileno(), warn_on_full_buffer=False)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
