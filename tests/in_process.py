"""Commands computed in the process that runs them, for tests whose point is the numbers or
the output, not the stoppable child (``test_cli_faults.py`` tests that one): each child
imports TensorFlow again, ~5 s of CPU per command. Imports nothing heavy, so that a batch
process (``spec.gradviz_batch``) can use it before gradviz."""

from __future__ import annotations

from collections.abc import Callable
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
