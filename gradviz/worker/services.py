"""What the two compute processes do: a loop each, answering typed messages.

Why processes and not the worker thread itself: python-flint holds the GIL for
a whole solve (1 s at n = 300, 256 bits: measured), TensorFlow's import holds it
for hundreds of ms, and neither can be interrupted. In a child process they
cannot stall the GUI, a stale computation is cancelled by ending the process, and
a crash in native code ends the child, not the app. Nothing here imports Qt.

A child never outlives its parent and never prints a traceback on the way out: it
asks the kernel to kill it when the parent dies, ignores the terminal's Ctrl-C
(the parent decides), and treats a closed pipe as the end of its work.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import time
from multiprocessing.connection import Connection

from gradviz.core.analysis.diagnosis import conditioning
from gradviz.core.numerics.reference import BallSolver, reference_curve, reference_solver
from gradviz.core.numerics.results import SPREAD_MAX_N, Reference
from gradviz.core.problem.data import ProblemData, curve_grid, data_from_sample, problem_data
from gradviz.core.problem.spec import Problem
from gradviz.worker.actions import Role
from gradviz.worker.child import Child
from gradviz.worker.messages import (
    Conditioned,
    CurvesDone,
    CurvesRequest,
    LoadData,
    PathsFailed,
    PathsReady,
    ProbeDone,
    ProbeRequest,
    ProblemFailed,
    ProblemStage,
    ReferenceCurveDone,
    ReferenceDone,
    ReferenceProgress,
    ReferenceRequest,
    ReferenceSolved,
    Sampled,
)

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
# The reference curve: every COARSE_STEP-th x of the curve grid first, then all of it,
# CURVE_CHUNK x per ball-arithmetic product (~0.1 s at n = 300) between requests.
COARSE_STEP = 10
CURVE_CHUNK = 100
# Once the reference is solved, the process lowers its own priority: the reference curve
# (~1.4 s of CPU at n = 300) is background work that must not slow TensorFlow's first
# probe and curves, or the window, when the cores are busy (it still runs on a free core).
# Answers at one x cost O(n) and keep up at any priority.
CURVE_NICENESS = 5
GONE = (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt)


def one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def become_child() -> None:
    """Die with the parent (Linux), leave Ctrl-C to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            log.debug("prctl(PR_SET_PDEATHSIG) is not available")


def start_paths() -> Child:
    """The TensorFlow process, started before the window is built: its import of
    TensorFlow is the longest step of a cold start, and it overlaps Qt's import and the
    window's construction on the other core. Hand it to ``ComputeWorker(paths=...)``, which
    adopts it as its first TensorFlow process."""
    return Child(f"gradviz {Role.PATHS}", serve_paths)


def serve_paths(conn: Connection) -> None:
    """TensorFlow side: answers ProbeRequest and CurvesRequest for the data last loaded
    with LoadData. It runs until terminated or the parent goes away."""
    become_child()
    try:
        _paths_loop(conn)
    except GONE:
        return


def _paths_loop(conn: Connection) -> None:
    started = time.perf_counter()
    from gradviz.core.numerics.probe import ProbeEngine

    engine = ProbeEngine()
    data: ProblemData | None = None
    conn.send(PathsReady(time.perf_counter() - started))
    while True:
        request = conn.recv()
        try:
            match request:
                case LoadData(problem=problem, y=y):
                    data = data_from_sample(problem, y)
                case ProbeRequest(x=x) if data is not None and data.problem == request.problem:
                    spread = request.spread and with_spread(data)
                    conn.send(ProbeDone(engine.probe(data, x, spread=spread)))
                case CurvesRequest() if data is not None and data.problem == request.problem:
                    spread = with_spread(data) and not data.problem.measured.is_lml
                    conn.send(CurvesDone(engine.curves(data, spread=spread)))
                case ProbeRequest() | CurvesRequest():
                    conn.send(PathsFailed(request, "its problem's data was never loaded"))
                case _:
                    log.error("unknown message to the paths process: %r", request)
        except GONE:
            raise
        except Exception as error:  # any failure is a result to show, not a reason to die
            conn.send(PathsFailed(request, one_line(error)))


def with_spread(data: ProblemData) -> bool:
    """The spread costs 16 solves per dtype: only up to SPREAD_MAX_N points. (Its curve
    is drawn over x only: along an LML quantity's theta every point of it would be 16
    new factorizations per dtype, 13 s at n = 60 here against 0.5 s for the curves.)"""
    return data.problem.n <= SPREAD_MAX_N


def _answer(conn: Connection, problem: Problem, solver: BallSolver, request: object) -> None:
    match request:
        case ReferenceRequest(x=x):
            conn.send(ReferenceDone(problem, x, solver.evaluate(x)))
        case _:
            log.error("unknown message to the problem process: %r", request)


def _chunked(
    conn: Connection, problem: Problem, solver: BallSolver, xs: list[float]
) -> list[Reference]:
    """References at ``xs``, CURVE_CHUNK at a time, answering requests in between."""
    references: list[Reference] = []
    for start in range(0, len(xs), CURVE_CHUNK):
        while conn.poll():
            _answer(conn, problem, solver, conn.recv())
        references += solver.evaluate_many(xs[start : start + CURVE_CHUNK])
    return references


def serve_problem(conn: Connection, problem: Problem, budget_s: float | None) -> None:
    """One process per problem, ended when the problem changes. It draws the sample (an
    O(n^3) SVD: seconds at n = 2000, and only a process can be stopped mid-way), measures
    cond(K + jitter I) and, unless ``budget_s`` is None (reference off), solves the
    reference, then answers ReferenceRequest."""
    become_child()
    try:
        _problem_loop(conn, problem, budget_s)
    except GONE:
        return


def _problem_loop(conn: Connection, problem: Problem, budget_s: float | None) -> None:
    stage: ProblemStage = "sample"
    try:
        data = problem_data(problem)
        conn.send(Sampled(problem, data.grid, data.y))
        stage = "reference"
        conn.send(Conditioned(problem, conditioning(data)))
        if budget_s is None:
            while True:
                conn.recv()  # idle until terminated or the parent goes away
        solver = reference_solver(
            data, budget_s, on_progress=lambda text: conn.send(ReferenceProgress(problem, text))
        )
        solver.solve()
        conn.send(ReferenceSolved(problem))
        os.nice(CURVE_NICENESS)
        xs = curve_grid(problem).tolist()
        coarse = xs[::COARSE_STEP]
        passes = [(coarse, False), (xs, True)]
        while True:
            # The probe's x first: a curve is evaluated between requests, chunk by chunk.
            if passes and not conn.poll():
                points, complete = passes.pop(0)
                curve = reference_curve(
                    problem, points, _chunked(conn, problem, solver, points), complete
                )
                if curve is not None:
                    conn.send(ReferenceCurveDone(problem, curve))
                continue
            _answer(conn, problem, solver, conn.recv())
    except GONE:
        raise
    except Exception as error:  # any failure is a result to show, not a reason to die
        conn.send(ProblemFailed(problem, stage, one_line(error)))
