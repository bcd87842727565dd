"""Workers for the window's tests: the real workers' signals, recorded numbers, no processes.

:class:`RecordedCompute` answers every (problem, x) it is sent, latest first, on the next
turn of the event loop (as the real worker's queued signals arrive): the data, the curves,
the reference over x and the precision for a new problem, then the report at x, all
built by ``records.py`` with numpy. A test can hold the answers back (``hold``), send any
record itself (``emit``), and read what the controller asked for. :class:`RecordedSweeps`
does the same for the Sweeps tab and the measured advice; its sweeps are answered when the
test says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PyQt6.QtCore import QObject, QTimer, pyqtSignal
from records import (
    exact_reference,
    make_curves,
    make_jitter_sweep,
    make_result,
    make_step_sweep,
    make_truth,
    sample,
)

from gradviz.core.analysis.advice import Advice, advice_from
from gradviz.core.analysis.diagnosis import conditioning, diagnose, precision_curves
from gradviz.core.analysis.sweep import StepSweep
from gradviz.core.numerics.results import (
    Curves,
    PrecisionCurves,
    ProbeReport,
    ReferenceCurve,
)
from gradviz.core.problem.spec import Problem
from gradviz.worker.messages import DataReady, Failure, Progress, SweepNote, SweepResult


@dataclass
class Asked:
    """What the controller asked a recorded worker for, in order (``full``: per sweep
    request, whether it was a whole sweep or only the advice)."""

    submitted: list[tuple[Problem, float]] = field(default_factory=list)
    full: list[bool] = field(default_factory=list)
    dragging: list[bool] = field(default_factory=list)
    retries: int = 0
    cancels: int = 0
    paused: list[bool] = field(default_factory=list)


class RecordedCompute(QObject):
    """The compute worker's interface, answered from ``records.py``."""

    data_ready = pyqtSignal(DataReady)
    curves_ready = pyqtSignal(Curves)
    report_ready = pyqtSignal(ProbeReport)
    reference_curve_ready = pyqtSignal(ReferenceCurve)
    precision_ready = pyqtSignal(PrecisionCurves)
    progress = pyqtSignal(Progress)
    failed = pyqtSignal(Failure)

    def __init__(self, reference: bool = True) -> None:
        super().__init__()
        self.asked = Asked()
        self._reference = reference
        self._running = False
        self._loaded = False
        self._holding = False
        self._pending: tuple[Problem, float] | None = None
        self._sent_for: Problem | None = None

    # --- the worker's interface ----------------------------------------------------------

    def start(self) -> None:
        self._running = True
        self._loaded = False
        self.progress.emit(Progress("tensorflow", "Loading TensorFlow…", busy=True))

    def submit(self, problem: Problem, x: float) -> None:
        self.asked.submitted.append((problem, x))
        self._pending = (problem, x)
        if not self._holding:
            QTimer.singleShot(0, self._answer)

    def set_dragging(self, dragging: bool) -> None:
        self.asked.dragging.append(dragging)

    def retry(self) -> None:
        self.asked.retries += 1

    def stop(self) -> None:
        self._running = False

    def wait(self, msecs: int = 0) -> bool:
        return True

    def isRunning(self) -> bool:
        return self._running

    # --- what a test controls ------------------------------------------------------------

    def hold(self) -> None:
        """Answer nothing until :meth:`release` (results pending)."""
        self._holding = True

    def release(self) -> None:
        self._holding = False
        QTimer.singleShot(0, self._answer)

    def emit(self, record: object) -> None:
        """Send one record as the worker would (a late report, a progress, a failure)."""
        signal = {
            DataReady: self.data_ready,
            Curves: self.curves_ready,
            ProbeReport: self.report_ready,
            ReferenceCurve: self.reference_curve_ready,
            PrecisionCurves: self.precision_ready,
            Progress: self.progress,
            Failure: self.failed,
        }[type(record)]
        signal.emit(record)

    def report(self, problem: Problem, x: float) -> ProbeReport:
        """The report this worker sends for ``problem`` at ``x``."""
        result = make_result(problem, x)
        reference = exact_reference(problem, x) if self._reference else None
        note = "" if self._reference else "reference off"
        diagnosis = diagnose(result, reference, conditioning(sample(problem)))
        return ProbeReport(result, reference, note, diagnosis)

    # --- answers -----------------------------------------------------------------------

    def _answer(self) -> None:
        if self._pending is None or self._holding or not self._running:
            return
        if not self._loaded:
            self._loaded = True
            self.progress.emit(Progress("tensorflow", "TensorFlow ready (0.0 s)", busy=False))
        (problem, x), self._pending = self._pending, None
        if problem != self._sent_for:
            self._sent_for = problem
            data = sample(problem)
            self.data_ready.emit(DataReady(problem, data.grid, data.y))
            curves = make_curves(problem)
            self.curves_ready.emit(curves)
            if self._reference:
                truth = make_truth(problem)
                self.reference_curve_ready.emit(truth)
                self.precision_ready.emit(precision_curves(curves, truth, conditioning(data)))
        self.report_ready.emit(self.report(problem, x))


class RecordedSweeps(QObject):
    """The sweep worker's interface; sweeps run until the test answers them."""

    note = pyqtSignal(SweepNote)
    result = pyqtSignal(SweepResult)
    step_ready = pyqtSignal(StepSweep)
    advice = pyqtSignal(Advice)

    def __init__(self) -> None:
        super().__init__()
        self.asked = Asked()
        self._running = False
        self.current: tuple[Problem, float] | None = None
        self.full = True

    def isRunning(self) -> bool:
        return self._running

    def start(self) -> None:
        self._running = True

    def submit(self, problem: Problem, x: float, *, full: bool = True) -> None:
        self.asked.submitted.append((problem, x))
        self.asked.full.append(full)
        self.current = (problem, x)
        self.full = full

    def cancel(self) -> None:
        self.asked.cancels += 1
        self.current = None

    def retry(self) -> None:
        self.asked.retries += 1

    def set_paused(self, paused: bool) -> None:
        self.asked.paused.append(paused)

    def stop(self) -> None:
        self._running = False

    def answer(self, final: bool = True) -> None:
        """The current sweep's provisional results, or all of them (``final``)."""
        assert self.current is not None
        problem, x = self.current
        if final:
            sweep = make_jitter_sweep(problem, x)
            self.advice.emit(advice_from(sweep, problem.solver, problem.jitter))
            if not self.full:
                self.note.emit(SweepNote(problem, x, "done", "advice in 2 s", advice_only=True))
                return
            self.step_ready.emit(make_step_sweep(problem, x))
            self.result.emit(SweepResult(sweep, final=True))
            self.note.emit(SweepNote(problem, x, "done", "done in 3 s"))
        else:
            partial = make_jitter_sweep(problem, x, references_from=1e-4)
            self.result.emit(SweepResult(partial, final=False))
            self.note.emit(SweepNote(problem, x, "running", "reference at jitter 1e-5"))
