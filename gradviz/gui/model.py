"""The window's one model: what is shown, for which problem and x, and what is stale.

napari's split (``components/viewer_model.py`` holds the state and emits events,
``_qt/qt_viewer.py`` only listens) applied to gradviz: :class:`WindowModel` owns the
problem, the probe x, every result received for them and the background tasks' states,
and says what changed through typed signals. The plots, the panel, the Sweeps tab and the
status bar are views: they read the model when it signals and never talk to a worker.
The controller (``controller.py``) is the only writer.

x exists here once (clamped into the domain), on the quantity's axis: for an LML
quantity the probe is theta (:mod:`~gradviz.gui.probe_axis`). Staleness is one
comparison in one place, :meth:`WindowModel.is_current`: a record's key against the
model's key.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Literal

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from gradviz.core.analysis.advice import Advice
from gradviz.core.analysis.sweep import JitterSweep, StepSweep
from gradviz.core.numerics.results import Curves, PrecisionCurves, ProbeReport, ReferenceCurve
from gradviz.core.problem.spec import Problem
from gradviz.gui.probe_axis import ProbeAxis
from gradviz.worker.messages import DataReady, Progress, SweepNote, SweepResult, Task

# The shown numbers are greyed as stale only when the current x's results take longer
# than this: while dragging they arrive within a frame or two, and greying them in between
# would flicker at 60 Hz (and cost a re-render per move).
STALE_AFTER_MS = 150
REPORTS_KEPT = 64  # reports of recent (problem, x), so undo and redo show them at once


@dataclass(frozen=True)
class ProbeKey:
    """What a per-x result answers: a problem at one probe x."""

    problem: Problem
    x: float


def clamped(problem: Problem, x: float) -> float:
    """The probe inside the problem's probe domain (x in the domain, or an LML
    quantity's theta in its span): the probe marker cannot leave it."""
    lo, hi = problem.probe_domain
    return min(max(float(x), lo), hi)


def sweep_key(key: ProbeKey) -> ProbeKey:
    """What a jitter sweep of ``key`` measures: every solver at every jitter of its grid,
    whatever the problem's own jitter and solver (for the mean's slopes; an LML quantity's
    likelihood depends on its jitter, so there nothing is ignored). Two keys with one sweep
    key share one sweep."""
    problem = key.problem
    if problem.measured.is_lml:
        return key
    return ProbeKey(problem.replace(jitter=0.0, solver="inverse"), key.x)


def report_key(report: ProbeReport) -> ProbeKey:
    return ProbeKey(report.result.problem, report.result.x)


@dataclass(frozen=True)
class ProblemResults:
    """What belongs to the problem as a whole (not to one x), as far as it arrived."""

    problem: Problem
    data: DataReady | None = None
    curves: Curves | None = None
    truth: ReferenceCurve | None = None
    precision: PrecisionCurves | None = None


@dataclass(frozen=True)
class TaskState:
    """One background task in words; ``since`` (monotonic) while it runs, ``retry`` when it
    stopped after repeated failures and waits for the user."""

    task: Task
    message: str
    since: float | None
    retry: bool = False


@dataclass(frozen=True)
class Tasks:
    """Every background task that has something to say, in the order they began."""

    states: tuple[TaskState, ...] = ()

    def with_progress(self, progress: Progress, now: float) -> Tasks:
        """These tasks after ``progress``: a task with nothing to say is dropped."""
        old = next((s for s in self.states if s.task == progress.task), None)
        others = tuple(s for s in self.states if s.task != progress.task)
        if not progress.message or not (progress.busy or progress.retry):
            return Tasks(others)
        since = None
        if progress.busy:
            since = old.since if old is not None and old.since is not None else now
        return Tasks((*others, TaskState(progress.task, progress.message, since, progress.retry)))

    def running(self) -> tuple[TaskState, ...]:
        return tuple(s for s in self.states if s.since is not None)

    def retry(self) -> bool:
        return any(s.retry for s in self.states)

    def busy(self, *tasks: str) -> bool:
        """Whether any of ``tasks`` runs."""
        return any(s.task in tasks for s in self.running())


SweepPhase = Literal["idle", "running", "done", "failed", "cancelled", "waiting"]


@dataclass(frozen=True)
class SweepState:
    """The Sweeps tab's sweep: for which (problem, x), how far it got, and whether its
    numbers are final. A jitter sweep that is not ``final`` is provisional: its digits are
    measured against the best jitter-free answer found so far, which may still change."""

    key: ProbeKey | None = None
    phase: SweepPhase = "idle"
    text: str = "no sweep yet"
    since: float | None = None  # monotonic start of the running sweep
    jitter: JitterSweep | None = None
    step: StepSweep | None = None
    final: bool = False
    retry: bool = False


AdvicePhase = Literal["off", "waiting", "measuring", "done", "failed"]


@dataclass(frozen=True)
class AdviceState:
    """The measured advice (what to change) for one (problem, x): ``waiting`` until the
    panel is complete (it is measured afterwards, never during a drag), ``measuring``,
    ``done`` with the record, or ``failed`` with why in ``text``; ``off`` in a model that
    measures none (``gradviz screenshot --no-advice``)."""

    key: ProbeKey
    phase: AdvicePhase = "waiting"
    advice: Advice | None = None
    text: str = ""


@dataclass
class _ReportStore:
    """Reports by (problem, x), the most recent REPORTS_KEPT."""

    reports: OrderedDict[ProbeKey, ProbeReport] = field(default_factory=OrderedDict)

    def add(self, report: ProbeReport) -> None:
        key = report_key(report)
        self.reports[key] = report
        self.reports.move_to_end(key)
        while len(self.reports) > REPORTS_KEPT:
            self.reports.popitem(last=False)

    def get(self, key: ProbeKey) -> ProbeReport | None:
        return self.reports.get(key)


class WindowModel(QObject):
    """The state every view reads. Only the controller calls the methods that change it.

    ``problem_changed`` means "start over": every view resets from the model (problem, x,
    and whatever results it already holds). ``probe_moved`` follows every change of x
    within a problem. Each result signal carries the record that arrived for the current
    problem; ``report_changed`` carries the latest report of the current problem, which
    may be for an earlier x: :meth:`is_current` says whether it is.
    """

    problem_changed = pyqtSignal(Problem)
    probe_moved = pyqtSignal(float)
    data_changed = pyqtSignal(DataReady)
    curves_changed = pyqtSignal(Curves)
    truth_changed = pyqtSignal(ReferenceCurve)
    precision_changed = pyqtSignal(PrecisionCurves)
    report_changed = pyqtSignal(ProbeReport)
    stale_changed = pyqtSignal(bool)
    dragging_changed = pyqtSignal(bool)
    tasks_changed = pyqtSignal(Tasks)
    sweep_changed = pyqtSignal(SweepState)
    advice_changed = pyqtSignal(AdviceState)  # the current key's advice state
    notice = pyqtSignal(str)  # a sentence for the status bar, said once
    completed = pyqtSignal()  # data, curves and a final report of the current key are in
    settled = pyqtSignal()  # ... and its advice is measured (or failed, or off)

    def __init__(
        self,
        problem: Problem,
        x: float,
        parent: QObject | None = None,
        stale_after_ms: int = STALE_AFTER_MS,
        *,
        advice: bool = True,
    ) -> None:
        """``advice``: whether what to change is measured for each (problem, x)."""
        super().__init__(parent)
        self._advice_on = advice
        self._problem = problem
        self._x = clamped(problem, x)
        self._axis = ProbeAxis.of(problem)
        self._results = ProblemResults(problem)
        self._reports = _ReportStore()
        self._report: ProbeReport | None = None
        self._stale = False
        self._dragging = False
        self._tasks = Tasks()
        self._sweep = SweepState()
        self._advice: OrderedDict[ProbeKey, AdviceState] = OrderedDict()
        self._cancel_to: Problem | None = None
        self._stale_timer = QTimer(self)
        self._stale_timer.setSingleShot(True)
        self._stale_timer.setInterval(stale_after_ms)
        self._stale_timer.timeout.connect(self._on_stale_timeout)

    # --- reading -----------------------------------------------------------------------

    @property
    def problem(self) -> Problem:
        return self._problem

    @property
    def x(self) -> float:
        """The probe, on the quantity's axis (x, or theta for an LML quantity)."""
        return self._x

    @property
    def axis(self) -> ProbeAxis:
        """The axis the probe moves along (x, or an LML quantity's theta on a log scale)."""
        return self._axis

    @property
    def key(self) -> ProbeKey:
        return ProbeKey(self._problem, self._x)

    @property
    def results(self) -> ProblemResults:
        """The current problem's data, curves, truth and precision as far as they arrived."""
        return self._results

    @property
    def report(self) -> ProbeReport | None:
        """The latest report of the current problem (perhaps for an earlier x)."""
        return self._report

    def is_current(self, key: ProbeKey) -> bool:
        """Whether a result for ``key`` describes what the window shows: the one place
        where staleness is decided."""
        return key == self.key

    def report_is_current(self) -> bool:
        return self._report is not None and self.is_current(report_key(self._report))

    @property
    def stale(self) -> bool:
        """The current x's report is overdue: the numbers shown are for another x."""
        return self._stale

    @property
    def dragging(self) -> bool:
        return self._dragging

    @property
    def tasks(self) -> Tasks:
        return self._tasks

    @property
    def sweep(self) -> SweepState:
        return self._sweep

    @property
    def advice(self) -> AdviceState:
        """The advice state of the current (problem, x)."""
        return self._advice.get(self.key) or AdviceState(
            self.key, "waiting" if self._advice_on else "off"
        )

    @property
    def cancel_to(self) -> Problem | None:
        """The problem that Cancel returns to while a new one is set up, if any."""
        return self._cancel_to

    def is_complete(self) -> bool:
        """Data, curves and a report of the current (problem, x) with its reference settled."""
        report, results = self._report, self._results
        return (
            results.data is not None
            and results.curves is not None
            and report is not None
            and self.report_is_current()
            and not report.reference_pending
        )

    def is_settled(self) -> bool:
        """Complete, and the advice of the current (problem, x) is in (or failed, or off):
        nothing more will arrive for what is shown."""
        return self.is_complete() and self.advice.phase in ("off", "done", "failed")

    def grid_step(self) -> float:
        return self._axis.grid_step

    # --- writing (the controller's) ------------------------------------------------------

    def set_problem(self, problem: Problem, x: float) -> None:
        """Show ``problem`` at ``x`` (clamped into its domain): every result goes."""
        self._problem = problem
        self._x = clamped(problem, x)
        self._axis = ProbeAxis.of(problem)
        self._results = ProblemResults(problem)
        self._report = self._reports.get(self.key)
        self._set_stale(False)
        self._stale_timer.stop()
        self.problem_changed.emit(problem)

    def move_probe(self, x: float) -> bool:
        """Move the probe to ``x`` (clamped); False when it was already there."""
        x = clamped(self._problem, x)
        if x == self._x:
            return False
        self._x = x
        self.probe_moved.emit(x)
        known = self._reports.get(self.key)
        if known is not None:
            self._show_report(known)
        elif not self._stale_timer.isActive() and not self._stale:
            self._stale_timer.start()
        return True

    def receive_data(self, data: DataReady) -> None:
        if data.problem == self._problem:
            self._results = replace(self._results, data=data)
            self.data_changed.emit(data)
            self._check_complete()

    def receive_curves(self, curves: Curves) -> None:
        if curves.problem == self._problem:
            self._results = replace(self._results, curves=curves)
            self.curves_changed.emit(curves)
            self._check_complete()

    def receive_truth(self, truth: ReferenceCurve) -> None:
        if truth.problem == self._problem:
            self._results = replace(self._results, truth=truth)
            self.truth_changed.emit(truth)

    def receive_precision(self, precision: PrecisionCurves) -> None:
        if precision.problem == self._problem:
            self._results = replace(self._results, precision=precision)
            self.precision_changed.emit(precision)

    def receive_report(self, report: ProbeReport) -> None:
        if report.result.problem != self._problem:
            return
        self._reports.add(report)
        if self.is_current(report_key(report)) or not self.report_is_current():
            self._show_report(report)

    def receive_progress(self, progress: Progress) -> None:
        self._set_tasks(self._tasks.with_progress(progress, time.monotonic()))

    def set_dragging(self, dragging: bool) -> None:
        if dragging != self._dragging:
            self._dragging = dragging
            self.dragging_changed.emit(dragging)

    def start_sweep(self) -> None:
        """A sweep of the current (problem, x) was asked for."""
        self._set_sweep(SweepState(self.key, "running", "starting…", since=time.monotonic()))

    def cancel_sweep(self) -> None:
        """No sweep is wanted any more: provisional results go."""
        old = self._sweep
        final = old.jitter if old.final else None
        self._set_sweep(replace(old, phase="cancelled", text="cancelled", since=None, jitter=final))

    def receive_sweep_note(self, note: SweepNote) -> None:
        """The sweep's state in words. A sweep that failed, or whose process was replaced,
        keeps no provisional result: only a final one stays on screen."""
        self._advice_note(note)
        old = self._sweep
        if note.advice_only or ProbeKey(note.problem, note.x) != old.key:
            return
        since = old.since if note.phase == "running" else None
        text = note.text
        if note.phase == "done" and old.since is not None:
            # The wall time since the sweep was asked for here: the worker counts from
            # when its thread took the request (after its process started, or a drag).
            text = f"done in {time.monotonic() - old.since:.0f} s"
        sweep = replace(old, phase=note.phase, text=text, since=since, retry=note.retry)
        if note.restarted or note.phase in ("failed", "cancelled", "waiting"):
            sweep = replace(sweep, jitter=old.jitter if old.final else None)
        if note.restarted:
            sweep = replace(sweep, step=None)
        self._set_sweep(sweep)

    def receive_sweep_result(self, result: SweepResult) -> None:
        sweep = self._sweep
        if ProbeKey(result.sweep.problem, result.sweep.x) == sweep.key:
            self._set_sweep(replace(sweep, jitter=result.sweep, final=result.final))

    def receive_step(self, step: StepSweep) -> None:
        sweep = self._sweep
        if ProbeKey(step.problem, step.x) == sweep.key:
            self._set_sweep(replace(sweep, step=step))

    def measure_advice(self) -> None:
        """The advice of the current (problem, x) was asked for."""
        self._set_advice(AdviceState(self.key, "measuring"))

    def receive_advice(self, advice: Advice) -> None:
        self._set_advice(AdviceState(ProbeKey(advice.problem, advice.x), "done", advice))

    def _advice_note(self, note: SweepNote) -> None:
        """A failure of the request that was to measure the advice of (problem, x)."""
        key = ProbeKey(note.problem, note.x)
        state = self._advice.get(key)
        if state is None or state.phase != "measuring":
            return
        if note.phase in ("failed", "cancelled", "waiting"):
            self._set_advice(AdviceState(key, "failed", text=note.text))

    def set_cancel_to(self, problem: Problem | None) -> None:
        if problem != self._cancel_to:
            self._cancel_to = problem
            self.tasks_changed.emit(self._tasks)

    def say(self, sentence: str) -> None:
        self.notice.emit(sentence)

    # --- internals ---------------------------------------------------------------------

    def _show_report(self, report: ProbeReport) -> None:
        self._report = report
        if self.report_is_current():
            self._stale_timer.stop()
            self._set_stale(False)
        self.report_changed.emit(report)
        self._check_complete()

    def _on_stale_timeout(self) -> None:
        self._set_stale(not self.report_is_current())

    def _set_stale(self, stale: bool) -> None:
        if stale != self._stale:
            self._stale = stale
            self.stale_changed.emit(stale)

    def _set_sweep(self, sweep: SweepState) -> None:
        if sweep != self._sweep:
            self._sweep = sweep
            self.sweep_changed.emit(sweep)

    def _set_advice(self, state: AdviceState) -> None:
        self._advice[state.key] = state
        self._advice.move_to_end(state.key)
        while len(self._advice) > REPORTS_KEPT:
            self._advice.popitem(last=False)
        if self.is_current(state.key):
            self.advice_changed.emit(state)
            if self.is_settled():
                self.settled.emit()

    def _set_tasks(self, tasks: Tasks) -> None:
        if tasks != self._tasks:
            self._tasks = tasks
            self.tasks_changed.emit(tasks)

    def _check_complete(self) -> None:
        if self.is_complete():
            self.completed.emit()
            if self.is_settled():
                self.settled.emit()
