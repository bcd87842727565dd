"""The loops that run inside the two compute processes.

Why processes and not the worker thread itself: python-flint holds the GIL for
a whole solve (1 s at n = 300, 256 bits: measured), TensorFlow's import holds it
for hundreds of ms, and neither can be interrupted. In a child process they
cannot stall the GUI, a stale computation is cancelled by terminating it, and a
crash in native code ends the child, not the app. Messages are tuples whose first
item names them; every reply carries what it answers, so the parent can drop
stale ones. Nothing here imports Qt.
"""

from __future__ import annotations

import time
from multiprocessing.connection import Connection

from gradviz.core.data import ProblemData, data_from_sample, problem_data
from gradviz.core.problem import Problem


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def serve_paths(conn: Connection) -> None:
    """TensorFlow side: ("data", problem, y) | ("probe", problem, x) | ("curves", problem).
    Replies ("ready", import_s), ("probe", result), ("curves", curves) or
    ("error", request, message). It runs until terminated or the parent goes away."""
    started = time.perf_counter()
    from gradviz.core.probe import ProbeEngine

    engine = ProbeEngine()
    data: ProblemData | None = None
    conn.send(("ready", time.perf_counter() - started))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        kind = request[0]
        try:
            if kind == "data":
                data = data_from_sample(request[1], request[2])
            elif data is None or data.problem != request[1]:
                raise ValueError(f"no sample was sent for {request[1].summary()}")
            elif kind == "probe":
                conn.send(("probe", engine.probe(data, request[2])))
            elif kind == "curves":
                conn.send(("curves", engine.curves(data)))
        except Exception as error:  # any failure is a result to show, not a reason to die
            conn.send(("error", request[:3], _one_line(error)))


def serve_problem(conn: Connection, problem: Problem, budget_s: float | None) -> None:
    """One process per problem, terminated when the problem changes. It draws the sample
    (an O(n^3) SVD: seconds at n = 2000, and only a process can be stopped mid-way) and
    sends ("sample", grid, y), then ("conditioning", c). Unless ``budget_s`` is None
    (reference off) it then solves the reference, sending ("progress", text) and
    ("solved",), and answers ("eval", x) with ("reference", x, Reference)."""
    from gradviz.core.diagnosis import conditioning
    from gradviz.core.reference import ReferenceSolver

    stage = "sample"
    try:
        data = problem_data(problem)
        conn.send(("sample", data.grid, data.y))
        stage = "reference"
        conn.send(("conditioning", conditioning(data)))
        if budget_s is None:
            while True:
                conn.recv()  # idle until terminated or the parent goes away
        solver = ReferenceSolver(
            data, budget_s, on_progress=lambda text: conn.send(("progress", text))
        )
        solver.solve()
        conn.send(("solved",))
        while True:
            request = conn.recv()
            if request[0] == "eval":
                conn.send(("reference", request[1], solver.evaluate(request[1])))
    except EOFError:
        return
    except Exception as error:  # any failure is a result to show, not a reason to die
        conn.send(("error", (stage,), _one_line(error)))
