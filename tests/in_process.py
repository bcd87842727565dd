"""Commands computed in the process that runs them, for tests whose point is the numbers or
the output, not the stoppable child (``test_cli_faults.py`` tests that one): each child
imports TensorFlow again, ~5 s of CPU per command. Imports nothing heavy, so that a batch
process (``spec.gradviz_batch``) can use it before gradviz."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

_T = TypeVar("_T")


def compute_in_process(function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``run_stoppable``'s contract without the child: the value, or a ComputeError whose
    words are what the child would have answered."""
    from gradviz.worker.stoppable import ComputeError

    try:
        return function(*args, **kwargs)
    except Exception as error:
        raise ComputeError(" ".join(f"{type(error).__name__}: {error}".split())) from None


def compute_commands_in_process() -> None:
    """From now on, every command of this process computes in it."""
    from gradviz.worker import stoppable

    stoppable.run_stoppable = compute_in_process


def run_commands(runs: Mapping[str, Sequence[str]]) -> dict[str, tuple[int, str, str]]:
    """Every command through ``gradviz.cli.main``, one after the other in this process:
    (exit status, stdout, stderr) by name. os.environ is put back after each."""
    from gradviz.cli import main

    environ = dict(os.environ)
    results = {}
    for name, argv in runs.items():
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            with _written_to(out.fileno(), err.fileno()):
                try:
                    status = main(list(argv))
                except Exception:  # a crash is this command's result; Ctrl-C stops the run
                    traceback.print_exc()
                    status = 1
            os.environ.clear()
            os.environ.update(environ)
            texts = [os.pread(f.fileno(), os.fstat(f.fileno()).st_size, 0) for f in (out, err)]
        results[name] = (status, texts[0].decode(), texts[1].decode())
    return results


@contextlib.contextmanager
def _written_to(out: int, err: int) -> Iterator[None]:
    """File descriptors 1 and 2, and sys.stdout and sys.stderr, go to ``out`` and ``err``:
    what TensorFlow or numpy write below Python is caught as a real process's would be."""
    sys.stdout.flush()
    sys.stderr.flush()
    kept, streams = (os.dup(1), os.dup(2)), (sys.stdout, sys.stderr)
    os.dup2(out, 1)
    os.dup2(err, 2)
    with open(1, "w", closefd=False) as stdout, open(2, "w", closefd=False) as stderr:
        sys.stdout, sys.stderr = stdout, stderr
        try:
            yield
        finally:
            sys.stdout, sys.stderr = streams
            stdout.flush()
            stderr.flush()
            for fd, copy in zip((1, 2), kept, strict=True):
                os.dup2(copy, fd)
                os.close(copy)
