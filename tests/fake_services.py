"""Child-process services that answer the real workers' messages with recorded numbers.

The workers' processes are real (spawned, killed, stopped, restarted by the real
scheduler and driver); only what runs inside them is recorded: numpy stands in for
TensorFlow (``records.py``), so a fault test does not spend seconds importing it. Spawned
children import this module by name: ``tests`` is on the path (pyproject's pytest
``pythonpath``), and multiprocessing hands the path to every spawned child.
"""

from __future__ import annotations

import time
from multiprocessing.connection import Connection

from records import make_curves, make_jitter_sweep, make_result, make_step_sweep

from gradviz.core.analysis.advice import advice_from
from gradviz.worker.messages import (
    AdviceDone,
    CurvesDone,
    CurvesRequest,
    LoadData,
    PathsReady,
    ProbeDone,
    ProbeRequest,
    SweepDone,
    SweepPartial,
    SweepProgress,
    SweepRequest,
    SweepStepDone,
)
from gradviz.worker.services import GONE, become_child

SWEEP_STEP_S = 0.3  # between a recorded sweep's messages, so a test can act meanwhile


def serve_recorded_paths(conn: Connection) -> None:
    """The TensorFlow process, answered with numpy: probes and curves of the last data."""
    become_child()
    try:
        conn.send(PathsReady(0.0))
        loaded = None
        while True:
            match conn.recv():
                case LoadData(problem=problem):
                    loaded = problem
                case ProbeRequest(problem=problem, x=x) if problem == loaded:
                    conn.send(ProbeDone(make_result(problem, x)))
                case CurvesRequest(problem=problem) if problem == loaded:
                    conn.send(CurvesDone(make_curves(problem)))
    except GONE:
        return


def _wait(conn: Connection, seconds: float) -> bool:
    """Sleep up to ``seconds``; True when a newer request arrived meanwhile."""
    return conn.poll(seconds)


def serve_recorded_sweep(conn: Connection) -> None:
    """The sweep process: a provisional jitter sweep, then the step sweep and the final
    one, SWEEP_STEP_S apart; a newer request supersedes the one running."""
    become_child()
    try:
        request: SweepRequest | None = None
        while True:
            request = conn.recv() if request is None else request
            assert isinstance(request, SweepRequest)
            serial, problem, x = request.serial, request.problem, request.x
            started = time.monotonic()
            if not request.full:  # the advice alone
                if not _wait(conn, SWEEP_STEP_S):
                    sweep = make_jitter_sweep(problem, x)
                    advice = advice_from(sweep, problem.solver, problem.jitter)
                    conn.send(AdviceDone(serial, advice))
                request = None
                while conn.poll():
                    request = conn.recv()
                continue
            steps = (
                SweepProgress(serial, "gradients in float32"),
                SweepPartial(serial, make_jitter_sweep(problem, x, references_from=1e-4)),
                SweepProgress(serial, "reference at jitter 0"),
                SweepStepDone(serial, make_step_sweep(problem, x)),
            )
            superseded = False
            for message in steps:
                if _wait(conn, SWEEP_STEP_S):
                    superseded = True
                    break
                conn.send(message)
            if not superseded:
                seconds = time.monotonic() - started
                conn.send(SweepDone(serial, make_jitter_sweep(problem, x, seconds=seconds)))
            request = None
            while conn.poll():
                request = conn.recv()
    except GONE:
        return
