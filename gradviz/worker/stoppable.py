"""One computation in a child process, so that the command waiting for it stays stoppable.

python-flint holds the GIL and ignores signals for seconds at a time (one 512-bit solve at
n = 300 takes ~3 s), and TensorFlow's import and numpy's LAPACK calls hold it too: a command
computing in its own main thread answers Ctrl-C or SIGTERM only when the running step
returns, then writes its complete output anyway. The commands compute in a child instead
and only wait for its answer; a stop signal interrupts the wait at once, and the child is
ended and reaped on the way out (it also dies with its parent: ``become_child``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from gradviz.worker.child import Child

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_T = TypeVar("_T")


class ComputeError(Exception):
    """The computation raised, or its process ended without answering; says which."""


@dataclass(frozen=True)
class _Done:
    value: Any


@dataclass(frozen=True)
class _Failed:
    words: str


def run_stoppable(function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``function(*args, **kwargs)`` computed in a child process (all must pickle); raises
    ComputeError when it fails there, and whatever a stop signal's handler raises while
    waiting, with the child ended first."""
    with _started_deaf_to_ctrl_c():
        child = Child("gradviz compute", _serve, function, args, kwargs)
    try:
        try:  # this module's own answer types, not the window's protocol: the raw pipe
            answer = child.conn.recv()
        except (EOFError, OSError):
            code = child.exit_code()
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"
            raise ComputeError(f"the computation ended without an answer ({how})") from None
        if isinstance(answer, _Failed):
            raise ComputeError(answer.words)
        if not isinstance(answer, _Done):
            raise ComputeError(f"the computation answered {type(answer).__name__}")
        result: _T = answer.value
        return result
    finally:
        child.close()


@contextlib.contextmanager
def _started_deaf_to_ctrl_c() -> Iterator[None]:
    """A child born while this is held ignores SIGINT from its first instruction (an
    ignored signal stays ignored across exec, and Python then installs no handler of its
    own): a terminal's Ctrl-C goes to the whole process group, and a child still starting
    up would otherwise print a KeyboardInterrupt traceback. The stop signals are held
    meanwhile, so one that arrives is delivered afterwards, not lost (Linux never
    discards a blocked signal); the child releases them (``_serve``)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; the window's threads never need this
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _serve(
    conn: Connection, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """The child: compute, answer once, exit. A failure is an answer in words."""
    from gradviz.worker.services import become_child

    become_child()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # held while it was started
    try:
        answer: _Done | _Failed = _Done(function(*args, **kwargs))
    except Exception as error:
        answer = _Failed(" ".join(f"{type(error).__name__}: {error}".split()))
    try:
        conn.send(answer)
    except (BrokenPipeError, EOFError, OSError):
        return  # the parent went away: nobody to answer
