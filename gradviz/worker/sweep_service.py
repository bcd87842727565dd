"""The sweep process: sweeps each request received, streaming typed replies.

A sweep holds the GIL for seconds (TensorFlow, python-flint's solves), so it runs in a
spawned child, which imports TensorFlow once and then sweeps request after request. Each
request gives the jitter sweep (streamed: provisional until done), the measured advice
read from it and then the step sweep; a request that is not ``full`` gives only the
measured advice, on its lighter grid.
Between the steps of a sweep (each gradient set, each jitter's reference) the child looks
for a newer request and drops the stale one. Nothing here imports Qt.
"""

from __future__ import annotations

from multiprocessing.connection import Connection

from gradviz.worker.messages import (
    AdviceDone,
    SweepDone,
    SweepFailed,
    SweepPartial,
    SweepProgress,
    SweepReply,
    SweepRequest,
    SweepStepDone,
)
from gradviz.worker.services import GONE, become_child, one_line


class _SupersededError(Exception):
    """A newer request arrived while a sweep ran."""


def serve_sweep(conn: Connection) -> None:
    """Sweep each request received over ``conn`` until the parent goes away."""
    become_child()
    try:
        _sweep_loop(conn)
    except GONE:
        return


def _sweep_loop(conn: Connection) -> None:
    request: SweepRequest | None = None
    while True:
        if request is None:
            request = conn.recv()
        try:
            _sweep(conn, request)
        except _SupersededError:
            pass
        except Exception as error:  # a failure is a result to show
            conn.send(SweepFailed(request.serial, one_line(error)))
        request = None
        while conn.poll():  # only the newest of the requests waiting counts
            request = conn.recv()


def _sweep(conn: Connection, request: SweepRequest) -> None:
    from gradviz.core.analysis.advice import advice_from, measure_advice
    from gradviz.core.analysis.sweep import jitter_grid, jitter_sweep, step_sweep
    from gradviz.core.problem.data import problem_data

    def send(reply: SweepReply) -> None:
        if conn.poll():
            raise _SupersededError
        conn.send(reply)

    def progress(text: str) -> None:
        send(SweepProgress(request.serial, text))

    data = problem_data(request.problem)
    problem = request.problem
    if not request.full:
        advice = measure_advice(data, request.x, budget_s=request.budget_s, on_progress=progress)
        conn.send(AdviceDone(request.serial, advice))
        return
    sweep = jitter_sweep(
        data,
        request.x,
        solvers=request.solvers,
        jitters=sorted({*jitter_grid(), problem.jitter}),
        budget_s=request.budget_s,
        on_progress=progress,
        on_partial=lambda partial: send(SweepPartial(request.serial, partial)),
    )
    if problem.solver in request.solvers:
        send(AdviceDone(request.serial, advice_from(sweep, problem.solver, problem.jitter)))
    send(SweepStepDone(request.serial, step_sweep(data, request.x, on_progress=progress)))
    conn.send(SweepDone(request.serial, sweep))
