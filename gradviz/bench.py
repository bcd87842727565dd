"""``python -m gradviz.bench [--json] [--quick]``: the speed a live tool needs, measured.

Every figure comes from this one run, side by side, so that ratios stay honest on a
shared, noisy machine. Sections (see the README's "Performance"):

- probe: a full probe (7 paths x 2 dtypes, no reference) at n = 300 on random x, without
  and with the spread of 16 perturbed copies per dtype, and the naive TF2 port of the
  seed (eager tape rebuilding K and its inverse each call);
- drag: the real window (offscreen) under a 60 Hz synthetic mouse drag of the probe:
  GUI-thread stalls, slow frames, and move-to-panel delay;
- startup: ``gradviz``'s window in a fresh process: first paint, every cell, the
  reference, the complete panel (both), and ``import tensorflow`` alone for context;
- problem_change: curves (both dtypes, 1000 x) at n = 300 and 2000, the reference with
  jitter and undetermined;
- soak: many probes: resident memory growth and tf.function trace counts;
- stages_n300, stages_n2000 (and stages_n5000 with ``--large``; ``--quick`` keeps n = 300):
  where the time of a new problem goes, stage by stage, and the peak resident memory.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gradviz.core.numerics.results import DTYPES
from gradviz.core.problem.data import ProblemData, curve_grid, problem_data
from gradviz.core.problem.spec import SOLVERS, Problem

if TYPE_CHECKING:
    from PyQt6.QtCore import QEvent

    from gradviz.core.numerics.results import ProbeReport
    from gradviz.gui.main_window import MainWindow

PARALLEL_DTYPE_CORES = 4  # one core for the GUI, one per dtype's process, one to spare
MOVE_HZ = 60.0
FRAME_S = 1 / 60
HEARTBEAT_MS = 1
SWEEP_STARTED_MS = 1500  # the Sweeps tab asks after 400 ms; its process then starts


def _percentile_ms(seconds: Sequence[float], q: float) -> float | None:
    return float(np.percentile(seconds, q) * 1e3) if len(seconds) else None


def _rss_mb() -> float:
    """Resident set size of this process, from /proc (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(function: Callable[[], Any]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


# --- probe ---------------------------------------------------------------------------------


def _naive_port(data: ProblemData) -> Callable[[float], None]:
    """What a user writes in TF2: the seed's expression under an eager GradientTape,
    rebuilding K and its inverse at every call, in both dtypes."""
    from gradviz.core.numerics.tf_ops import tf

    problem, y_np = data.problem, data.y
    lo, hi = problem.domain
    two_l2 = 2 * problem.length_scale**2

    def gradient(x: float, dtype: tf.DType) -> float:
        x_t = tf.convert_to_tensor(x, dtype=dtype)
        with tf.GradientTape() as tape:
            tape.watch(x_t)
            ref_point = tf.expand_dims(tf.convert_to_tensor(y_np, dtype=dtype), axis=1)
            point = tf.reshape(
                tf.linspace(tf.constant(lo, dtype), tf.constant(hi, dtype), problem.n),
                (problem.n, 1),
            )
            kernel = tf.exp(-((point - tf.transpose(point)) ** 2) / two_l2)
            vector = tf.exp(-((x_t - tf.transpose(point)) ** 2) / two_l2)
            mu = tf.matmul(tf.matmul(vector, tf.linalg.inv(kernel)), ref_point)
        return float(tape.gradient(mu, x_t).numpy())

    def both(x: float) -> None:
        gradient(x, tf.float32)
        gradient(x, tf.float64)

    return both


def bench_probe(quick: bool) -> dict[str, Any]:
    from gradviz.core.numerics.probe import ProbeEngine

    data = problem_data(Problem())
    rng = np.random.default_rng(0)
    engine = ProbeEngine()
    engine.probe(data, 2.0)  # build once (spread copies included): a probe only evaluates
    xs = rng.uniform(*data.problem.domain, 50 if quick else 500)
    probe = [_timed(functools.partial(engine.probe, data, float(x), spread=False)) for x in xs]
    spread = [_timed(functools.partial(engine.probe, data, float(x))) for x in xs]
    naive_call = _naive_port(data)
    naive_call(2.0)
    naive = [_timed(functools.partial(naive_call, float(x))) for x in xs[: 10 if quick else 50]]
    p50, naive_p50 = _percentile_ms(probe, 50), _percentile_ms(naive, 50)
    return {
        "p50_ms": p50,
        "p99_ms": _percentile_ms(probe, 99),
        "with_spread_p50_ms": _percentile_ms(spread, 50),
        "with_spread_p99_ms": _percentile_ms(spread, 99),
        "naive_p50_ms": naive_p50,
        "speedup": naive_p50 / p50 if p50 and naive_p50 else None,
        "probes": len(probe),
        "dtype_mode": dtype_mode(os.cpu_count() or 1),
    }


def dtype_mode(cores: int) -> str:
    """How the two dtypes of a probe are run on a machine with ``cores`` cores, and why."""
    if cores < PARALLEL_DTYPE_CORES:
        return f"sequential ({cores} cores: the second core paints the GUI)"
    return f"sequential ({cores} cores: one process per dtype is not built yet)"


# --- the window: drag ------------------------------------------------------------------------


class _Heartbeat:
    """A 1 ms timer on the GUI thread; the gaps between its ticks are the stalls."""

    def __init__(self) -> None:
        from PyQt6.QtCore import QTimer

        self.ticks: list[float] = []
        self._timer = QTimer()
        self._timer.setInterval(HEARTBEAT_MS)
        self._timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self) -> None:
        self.ticks.clear()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def stalls(self) -> tuple[float, float]:
        """Longest gap (ms) and the share of 16.7 ms frames that a gap overran."""
        gaps = np.diff(self.ticks)
        if not len(gaps):
            return float("nan"), float("nan")
        frames = max(1.0, (self.ticks[-1] - self.ticks[0]) / FRAME_S)
        slow = float(np.sum(np.floor(gaps[gaps > FRAME_S] / FRAME_S)))
        return float(gaps.max() * 1e3), slow / frames


def _window(problem: Problem, x: float) -> MainWindow:
    from gradviz.gui.app import dispose, open_window, wait_until_complete
    from gradviz.gui.model import WindowModel

    window = open_window(WindowModel(problem, x))
    window.show()
    if not wait_until_complete(window, 240.0):
        dispose(window)
        raise RuntimeError("the window did not complete its first results within 240 s")
    return window


def _mouse(window: MainWindow, kind: QEvent.Type, x: float, held: bool) -> None:
    """A real QMouseEvent at data x, mid-height of the top plot, to the plots' viewport."""
    from PyQt6.QtCore import QPointF, Qt
    from PyQt6.QtGui import QMouseEvent
    from PyQt6.QtWidgets import QApplication

    graphics = window.plots.graphics()
    view = window.plots.plot_items()[0].vb
    _, (y_lo, y_hi) = view.viewRange()
    point = QPointF(graphics.mapFromScene(view.mapViewToScene(QPointF(x, (y_lo + y_hi) / 2))))
    left = Qt.MouseButton.LeftButton
    event = QMouseEvent(
        kind,
        point,
        graphics.viewport().mapToGlobal(point),
        Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove else left,
        left if held else Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(graphics.viewport(), event)


def _wait(milliseconds: int) -> None:
    from PyQt6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()


def bench_drag(quick: bool) -> dict[str, Any]:
    """Drag the probe across the seed problem at 60 moves per second, with background work
    pending: the reference curve, and the Sweeps tab's sweep (shown once, then the plots
    again: its process is busy with TensorFlow and the references for seconds more)."""
    from PyQt6.QtCore import QEvent, QEventLoop, QTimer

    from gradviz.gui.app import application, dispose

    seconds = 1.5 if quick else 5.0
    problem = Problem()
    app = application()  # held: a collected QApplication takes its widgets with it
    window = _window(problem, -4.0)
    if not quick:  # a smoke run skips the sweep's process (its TensorFlow import)
        window.tabs.setCurrentWidget(window.sweeps)
        _wait(SWEEP_STARTED_MS)
        window.tabs.setCurrentWidget(window.plots)
        _wait(300)
    # A drag starts on the first move, not after pyqtgraph's 0.5 s click-or-drag wait.
    window.plots.graphics().scene().minDragTime = 0
    moves = int(seconds * MOVE_HZ)
    targets = np.linspace(-4.0, 4.0, moves + 1)
    sent: dict[float, float] = {}
    lags: list[float] = []

    def on_report(report: ProbeReport) -> None:
        moved = sent.pop(report.result.x, None)
        if moved is not None:
            lags.append(time.perf_counter() - moved)

    window.model.report_changed.connect(on_report)
    heartbeat = _Heartbeat()
    _mouse(window, QEvent.Type.MouseMove, targets[0], held=False)
    _mouse(window, QEvent.Type.MouseButtonPress, targets[0], held=True)
    loop = QEventLoop()
    step = iter(range(1, moves + 1))

    def move() -> None:
        index = next(step, None)
        if index is None:
            _mouse(window, QEvent.Type.MouseButtonRelease, targets[-1], held=False)
            timer.stop()
            QTimer.singleShot(1000, loop.quit)  # let the last results arrive
            return
        _mouse(window, QEvent.Type.MouseMove, targets[index], held=True)
        sent[window.model.x] = time.perf_counter()

    timer = QTimer()
    timer.setInterval(round(1000 / MOVE_HZ))
    timer.timeout.connect(move)
    heartbeat.start()
    timer.start()
    loop.exec()
    heartbeat.stop()
    dispose(window)
    app.processEvents()
    max_stall, slow_share = heartbeat.stalls()
    return {
        "max_stall_ms": max_stall,
        "slow_frame_share": slow_share,
        "lag_p50_ms": _percentile_ms(lags, 50),
        "lag_p99_ms": _percentile_ms(lags, 99),
        "moves": moves,
        "moves_shown": len(lags),
    }


# --- startup ---------------------------------------------------------------------------------

_STARTUP_CHILD = """
import json, os, sys, time
spawned = float(sys.argv[1])
from PyQt6.QtCore import QEvent, QObject
from gradviz.gui.app import application, dispose, open_window
from gradviz.gui.model import WindowModel
from gradviz.core.problem.spec import Problem
from gradviz.worker.services import start_paths
paths = start_paths()  # as ``gradviz`` does once the display works: before the window
marks = {}
class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "paint" not in marks:
            marks["paint"] = time.time() - spawned
        return False
app = application()
watcher = FirstPaint()
app.installEventFilter(watcher)
window = open_window(WindowModel(Problem(), 2.0), paths=paths)
def on_report(report):
    cells = all(c.mu is not None or c.error for c in report.result.cells)
    if "panel" not in marks and cells:
        marks["panel"] = time.time() - spawned
    if report.reference is not None and "reference" not in marks:
        marks["reference"] = time.time() - spawned
    if cells and not report.reference_pending:  # the reference is in (or failed)
        marks["complete"] = time.time() - spawned
        app.quit()
window.model.report_changed.connect(on_report)
window.show()
app.exec()
dispose(window)
paths.close()
print(json.dumps(marks))
"""


def _fresh_python(code: str, *args: str) -> tuple[float, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    spawned = time.time()
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return time.time() - spawned, done.stdout.strip().splitlines()[-1]


def bench_startup(quick: bool) -> dict[str, Any]:
    """A cold start in a fresh process; and ``import tensorflow`` alone, for context (a
    smoke run, ``--quick``, skips that one: null)."""
    tf_import_s = None if quick else _fresh_python("import tensorflow; print('ok')")[0]
    _, output = _fresh_python(_STARTUP_CHILD, repr(time.time()))
    marks = json.loads(output)
    return {
        "first_paint_s": marks.get("paint"),
        "first_panel_s": marks.get("panel"),
        "tf_import_s": tf_import_s,
        "first_reference_s": marks.get("reference"),
        "complete_panel_s": marks.get("complete"),
    }


# --- problem change and soak -----------------------------------------------------------------


def bench_problem_change(quick: bool) -> dict[str, Any]:
    from gradviz.core.numerics.probe import ProbeEngine
    from gradviz.core.numerics.reference import ReferenceSolver
    from gradviz.core.numerics.results import SPREAD_MAX_N

    engine = ProbeEngine()
    engine.curves(problem_data(Problem(seed=1)))  # TensorFlow warm-up, not a problem change
    figures: dict[str, Any] = {}
    for n in (300,) if quick else (300, 2000):
        problem = Problem(n=n, seed=7)
        start = time.perf_counter()
        data = problem_data(problem)
        figures[f"sample_n{n}_ms"] = (time.perf_counter() - start) * 1e3
        # As the window asks for them: with the spread's digits only up to SPREAD_MAX_N.
        spread = n <= SPREAD_MAX_N
        curves = _timed(functools.partial(engine.curves, data, spread=spread))
        figures[f"curves_n{n}_ms"] = curves * 1e3
    with_jitter = problem_data(Problem(jitter=1e-6, solver="cholesky"))
    figures["reference_jitter_s"] = _timed(lambda: ReferenceSolver(with_jitter).evaluate(2.0))
    seed = problem_data(Problem())
    figures["reference_undetermined_s"] = (
        None if quick else _timed(lambda: ReferenceSolver(seed).evaluate(2.0))
    )
    figures.setdefault("curves_n2000_ms", None)  # --quick skips n = 2000 (a 3 s sample)
    return {key: figures[key] for key in sorted(figures, key=lambda k: k.startswith("sample"))}


def bench_soak(quick: bool) -> dict[str, Any]:
    from gradviz.core.numerics.probe import ProbeEngine

    data = problem_data(Problem())
    engine = ProbeEngine()
    rng = np.random.default_rng(1)
    # A smoke run (--quick) only needs to see that probes trace nothing new; the memory
    # figure wants the full 10,000.
    for x in rng.uniform(*data.problem.domain, 20 if quick else 200):
        engine.probe(data, float(x))
    before_mb, traces_before = _rss_mb(), engine.tracing_counts()
    count = 100 if quick else 10_000
    for x in rng.uniform(*data.problem.domain, count):
        engine.probe(data, float(x))
    return {
        "rss_growth_mb": _rss_mb() - before_mb,
        "traces_before": traces_before,
        "traces_after": engine.tracing_counts(),
        "probes": count,
    }


# --- stages of a new problem ----------------------------------------------------------------


def bench_stages(n: int) -> dict[str, Any]:
    """Where a new problem of size n spends its time, stage by stage in seconds, in the order
    the app meets them: the seed-faithful sample (an SVD of K), cond(K) (an eigendecomposition),
    per dtype every build of :meth:`PathSet.prepare` (``function`` and ``seed`` include
    grappler's constant folding), the first probe (the seed Session's executor for the probe's
    fetches: grappler again), a later probe, the spread at one x, the curves; the reference's
    predicted time at its first precision; and the peak resident memory of the process so far."""
    from gradviz.core.analysis.diagnosis import conditioning
    from gradviz.core.numerics.paths import PathSet
    from gradviz.core.numerics.reference import PRECISIONS, ReferenceSolver

    problem = Problem(n=n, seed=7)
    figures: dict[str, Any] = {}

    def stage(name: str, function: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = function()
        figures[f"{name}_s"] = time.perf_counter() - start
        return result

    data: ProblemData = stage("problem_data", lambda: problem_data(problem))
    stage("conditioning", lambda: conditioning(data))
    xs = curve_grid(problem)
    for dtype in DTYPES:
        path_set = PathSet(data, dtype)
        path_set.prepare(functools.partial(_record_stage, figures, dtype))
        stage(f"{dtype}_first_probe", functools.partial(path_set.probe, 2.0))
        stage(f"{dtype}_probe", functools.partial(path_set.probe, 1.0))
        stage(f"{dtype}_spread_at_x", functools.partial(path_set.spread, 1.0))
        stage(f"{dtype}_curves", functools.partial(path_set.curves, xs))
        path_set.close()
    figures["reference_predicted_s"] = ReferenceSolver(data)._predict(PRECISIONS[0])
    figures["peak_rss_mb"] = _peak_rss_mb()
    return figures


def _record_stage(figures: dict[str, Any], dtype: str, name: str, seconds: float) -> None:
    figures[f"{dtype}_{name}_s"] = seconds


def stage_sizes(quick: bool, large: bool) -> tuple[int, ...]:
    """The n whose stages are measured: 300 always, 2000 unless quick, 5000 when large."""
    return (300,) + (() if quick else (2000,)) + ((5000,) if large else ())


# --- report ----------------------------------------------------------------------------------


def bench_sweep(quick: bool) -> dict[str, Any]:
    """The seed's jitter sweep at x = 2 (three solvers, both dtypes): the wall time, and
    when the first rows with digits arrived (the Sweeps tab draws them at once)."""
    from gradviz.core.analysis.sweep import jitter_sweep

    data = problem_data(Problem())
    start = time.perf_counter()
    first: list[float] = []

    def on_partial(sweep: Any) -> None:
        if not first and any(row.digits is not None for row in sweep.rows):
            first.append(time.perf_counter() - start)

    kept = jitter_sweep(data, 2.0, solvers=("cholesky",) if quick else SOLVERS,
                        on_partial=on_partial)  # fmt: skip
    return {
        "seconds": time.perf_counter() - start,
        "first_digits_s": first[0] if first else None,
        "rows": len(kept.rows),
    }


SECTIONS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "probe": bench_probe,
    "sweep": bench_sweep,
    "drag": bench_drag,
    "startup": bench_startup,
    "problem_change": bench_problem_change,
    "soak": bench_soak,
}


def _stages_section(n: int, _quick: bool) -> dict[str, Any]:
    return bench_stages(n)


def run(quick: bool, large: bool = False, only: Sequence[str] | None = None) -> dict[str, Any]:
    """Every section (or ``only`` these) in one run; a section that fails reports its
    error, not a number."""
    sections = dict(SECTIONS)
    if only:
        sections = {name: sections[name] for name in only}
    else:
        for n in stage_sizes(quick, large):
            sections[f"stages_n{n}"] = functools.partial(_stages_section, n)
    results: dict[str, Any] = {}
    for name, section in sections.items():
        try:
            results[name] = section(quick)
        except Exception as error:  # one broken section must not hide the others
            results[name] = {"error": f"{type(error).__name__}: {error}"}
    return results


def _figure(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def to_table(results: dict[str, Any]) -> str:
    lines = []
    for section, figures in results.items():
        lines.append(section)
        for key, value in figures.items():
            text = textwrap.shorten(_figure(value), 60)
            lines.append(f"  {key:<28}{text}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradviz.bench", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke test)")
    parser.add_argument(
        "--large", action="store_true", help="also the stages of n = 5000 (minutes, GBs)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="SECTION",
        help="run only this section (repeatable): " + ", ".join(SECTIONS),
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only or ()) - set(SECTIONS))
    if unknown:
        parser.error(f"--only: unknown section {unknown[0]!r}; one of {', '.join(SECTIONS)}")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    results = run(args.quick, args.large, args.only)
    print(json.dumps(results, indent=2) if args.json else to_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
