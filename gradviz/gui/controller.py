"""The window's controller: what the user asks for, turned into model changes and work.

The only writer of the :class:`~gradviz.gui.model.WindowModel`. Views emit what the user
wants (move the probe, apply a problem, sweep, retry); the controller records it for
Undo, changes the model, and hands the new (problem, x) to the workers. What the workers
send goes into the model, which drops whatever is no longer current. Nothing here draws.

The workers are anything with the worker's interface (:class:`ComputeService`,
:class:`SweepService`): the window's tests drive the model with recorded results.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from PyQt6.QtCore import QObject, QTimer, pyqtBoundSignal
from PyQt6.QtGui import QUndoStack

from gradviz.core.analysis.advice import advice_from
from gradviz.core.io.session import Session
from gradviz.core.problem.data import estimated_seconds
from gradviz.core.problem.spec import SOLVERS, Problem, Solver
from gradviz.gui.model import ProbeKey, WindowModel, clamped, sweep_key
from gradviz.gui.undo import StateChange
from gradviz.worker.messages import Failure

STOP_TIMEOUT_MS = 2000
LONG_WORK_S = 5.0  # a problem expected to take longer is announced, with Cancel
SWEEP_DEBOUNCE_MS = 400
ADVICE_DEBOUNCE_MS = 400  # after the panel completes: a probe that keeps moving asks none


class ComputeService(Protocol):
    """The compute worker as the controller uses it (``ComputeWorker``, or a fake)."""

    @property
    def data_ready(self) -> pyqtBoundSignal: ...
    @property
    def curves_ready(self) -> pyqtBoundSignal: ...
    @property
    def report_ready(self) -> pyqtBoundSignal: ...
    @property
    def reference_curve_ready(self) -> pyqtBoundSignal: ...
    @property
    def precision_ready(self) -> pyqtBoundSignal: ...
    @property
    def progress(self) -> pyqtBoundSignal: ...
    @property
    def failed(self) -> pyqtBoundSignal: ...

    def start(self) -> None: ...
    def submit(self, problem: Problem, x: float) -> None: ...
    def set_dragging(self, dragging: bool) -> None: ...
    def retry(self) -> None: ...
    def stop(self) -> None: ...
    def wait(self, msecs: int) -> bool: ...


class SweepService(Protocol):
    """The sweep worker as the controller uses it (``SweepWorker``, or a fake)."""

    @property
    def note(self) -> pyqtBoundSignal: ...
    @property
    def result(self) -> pyqtBoundSignal: ...
    @property
    def step_ready(self) -> pyqtBoundSignal: ...
    @property
    def advice(self) -> pyqtBoundSignal: ...

    def isRunning(self) -> bool: ...
    def start(self) -> None: ...
    def submit(self, problem: Problem, x: float, *, full: bool = True) -> None: ...
    def cancel(self) -> None: ...
    def retry(self) -> None: ...
    def set_paused(self, paused: bool) -> None: ...
    def stop(self) -> None: ...


def start_at(old: Problem, new: Problem, x: float) -> float:
    """Where the probe starts on ``new`` when it was at ``x`` on ``old``: where it was
    while the probe stays on the same axis with the same span; at the new problem's own
    theta when the axis changes (x and theta have nothing in common) or when the theta
    it spans around was edited."""
    if old.measured.theta == new.measured.theta and old.theta == new.theta:
        return x
    return new.default_x


class WindowController(QObject):
    """Intents in, model changes and worker requests out."""

    def __init__(
        self,
        model: WindowModel,
        compute: ComputeService,
        sweeps: SweepService,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._compute = compute
        self._sweeps = sweeps
        self._undo = QUndoStack(self)
        self._undo.indexChanged.connect(self._on_undo_index_changed)
        self._restoring = False  # undo/redo applies a state: it must not push another
        self._sweeps_shown = False
        self._sweep_debounce = QTimer(self)
        self._sweep_debounce.setSingleShot(True)
        self._sweep_debounce.setInterval(SWEEP_DEBOUNCE_MS)
        self._sweep_debounce.timeout.connect(self._sweep_if_needed)
        self._advice_debounce = QTimer(self)
        self._advice_debounce.setSingleShot(True)
        self._advice_debounce.setInterval(ADVICE_DEBOUNCE_MS)
        self._advice_debounce.timeout.connect(self.measure_advice)
        model.completed.connect(self._advice_debounce.start)
        # Bound methods, not lambdas: PyQt drops a bound method's connection when its
        # QObject is destroyed, but would still call a lambda into a half-deleted object.
        compute.data_ready.connect(model.receive_data)
        compute.curves_ready.connect(model.receive_curves)
        compute.report_ready.connect(model.receive_report)
        compute.reference_curve_ready.connect(model.receive_truth)
        compute.precision_ready.connect(model.receive_precision)
        compute.progress.connect(model.receive_progress)
        compute.failed.connect(self._on_failed)
        sweeps.note.connect(model.receive_sweep_note)
        sweeps.result.connect(model.receive_sweep_result)
        sweeps.step_ready.connect(model.receive_step)
        sweeps.advice.connect(model.receive_advice)
        model.sweep_changed.connect(self._on_sweep_changed)

    @property
    def undo_stack(self) -> QUndoStack:
        return self._undo

    def start(self) -> None:
        """Start the compute worker on the model's (problem, x)."""
        self._compute.start()
        self._submit()

    def stop(self) -> None:
        """End both workers and their processes (the window closes)."""
        self._sweep_debounce.stop()
        self._advice_debounce.stop()
        self._compute.stop()
        self._compute.wait(STOP_TIMEOUT_MS)
        self._sweeps.stop()

    # --- the probe ---------------------------------------------------------------------

    def move_to(self, x: float) -> None:
        """The user moved the probe (drag, click, keys, the x box): one undo step per
        drag; an x outside the domain is clamped and said."""
        model = self._model
        inside = clamped(model.problem, x)
        axis = model.axis
        if inside != x:
            lo, hi = axis.domain
            model.say(
                f"{axis.symbol} = {x:g} lies outside the {axis.span} [{lo:g}, {hi:g}]; "
                f"the probe is at {inside:g}"
            )
        if inside != model.x:
            self._remember(
                ProbeKey(model.problem, inside), f"Move {axis.symbol} to {inside:.6g}", merge=True
            )
            # Asked first: TensorFlow computes while the views follow the probe.
            self._compute.submit(model.problem, inside)
            model.move_probe(inside)
            self._follow_in_sweeps()

    def nudge(self, steps: int) -> None:
        """Move the probe by ``steps`` grid steps (Left/Right; Shift: ten), or along an
        LML quantity's theta by steps of a fraction of a decade."""
        self.move_to(self._model.axis.nudged(self._model.x, steps))

    def set_dragging(self, dragging: bool) -> None:
        """While the user drags, background work yields: only the probe's paths run. On
        release the advice of where the probe rests is asked for (its panel may have
        completed during the drag)."""
        self._model.set_dragging(dragging)
        self._compute.set_dragging(dragging)
        self._sweeps.set_paused(dragging)
        if not dragging:
            self._advice_debounce.start()

    # --- the problem -------------------------------------------------------------------

    def apply_problem(self, problem: Problem) -> None:
        """A new valid problem (the editor, a preset, a sweep point, a session)."""
        model = self._model
        if problem == model.problem:
            return
        seconds = estimated_seconds(problem)
        if seconds >= LONG_WORK_S:
            model.say(
                f"n = {problem.n}: the first results will take about {seconds:.0f} s here; "
                "Cancel in the status bar returns to the previous problem"
            )
        old_x = start_at(model.problem, problem, model.x)
        text = "Change the quantity" if problem.quantity != model.problem.quantity else None
        self._remember(
            ProbeKey(problem, clamped(problem, old_x)), text or "Change the problem", False
        )
        model.set_problem(problem, old_x)
        if model.x != old_x:
            self._say_moved(old_x)
        self._submit()

    def choose_sweep_point(self, jitter: float, solver: Solver) -> None:
        """A point of the jitter sweep or the advised configuration: apply its jitter and
        solver (one undo step)."""
        self.apply_problem(self._model.problem.replace(jitter=jitter, solver=solver))

    def cancel_problem(self) -> None:
        """Return to the problem before the one being set up (Cancel in the status bar)."""
        if self._model.cancel_to is not None:
            self._undo.undo()
            self._model.say(f"Cancelled: back to {self._model.problem.summary()}")

    def apply_session(self, session: Session) -> None:
        """Show a loaded (already validated) session's problem and x."""
        model = self._model
        if session.problem != model.problem:
            self._remember(
                ProbeKey(session.problem, clamped(session.problem, session.x)),
                "Open a session",
                False,
            )
            model.set_problem(session.problem, session.x)
            if model.x != session.x:
                self._say_moved(session.x)
            self._submit()
        else:
            self.move_to(session.x)

    def go_to(self, key: ProbeKey) -> None:
        """Show ``key`` without recording it (undo and redo)."""
        self._restoring = True
        try:
            if key.problem != self._model.problem:
                self._model.set_problem(key.problem, key.x)
                self._submit()
            else:
                self.move_to(key.x)
        finally:
            self._restoring = False

    def retry(self) -> None:
        """Start every process that stopped after repeated failures, now."""
        self._compute.retry()
        self._sweeps.retry()

    # --- the Sweeps tab ------------------------------------------------------------------

    def set_sweeps_shown(self, shown: bool) -> None:
        """The Sweeps tab is on screen (sweeps run for it) or not."""
        self._sweeps_shown = shown
        if shown and not self._swept():
            self._sweep_debounce.start()

    def _swept(self) -> bool:
        """Whether the tab's sweep measures what the current (problem, x) would: the same
        sweep key (the problem's own jitter and solver are every sweep's points)."""
        key = self._model.sweep.key
        return key is not None and sweep_key(key) == sweep_key(self._model.key)

    def sweep_again(self) -> None:
        """Sweep the current (problem, x), superseding any sweep that runs; the advice is
        read from the sweep."""
        model = self._model
        model.start_sweep()
        if model.advice.phase != "done":
            model.measure_advice()
        self._start_sweeps()
        self._sweeps.submit(model.problem, model.x)

    def _sweep_if_needed(self) -> None:
        """Sweep the current (problem, x) unless its sweep already runs, is done (a
        change of the problem's jitter or solver alone needs none), or waits after
        repeated failures: asking again would skip that wait, which only Retry or new
        work may do."""
        if not self._swept() or self._model.sweep.phase not in ("running", "done", "waiting"):
            self.sweep_again()

    def measure_advice(self) -> None:
        """Measure what to change for the current (problem, x), once its panel is
        complete and the probe rests: by the Sweeps tab's sweep when the tab is shown (or
        its sweep of this key runs), else on the advice's lighter grid."""
        model = self._model
        if model.dragging or model.advice.phase != "waiting" or not model.is_complete():
            return
        if self._advice_from_sweep():
            return
        sweep = model.sweep
        if self._swept() and sweep.phase == "running":
            model.measure_advice()  # that sweep gives the advice (_on_sweep_changed)
            return
        if self._sweeps_shown:
            self.sweep_again()
            return
        if sweep.phase == "running":
            model.cancel_sweep()  # superseded: the tab re-sweeps when shown again
        model.measure_advice()
        self._start_sweeps()
        self._sweeps.submit(model.problem, model.x, full=False)

    def _advice_from_sweep(self) -> bool:
        """The advice of the current (problem, x) read off the tab's final sweep when that
        sweep measured every solver at the problem's own jitter: exactly what a sweep of
        this problem computes (``advice_from``), with no new measurement."""
        model, sweep = self._model, self._model.sweep
        if model.advice.phase == "done" or not self._swept() or not sweep.final:
            return False
        problem, rows = model.problem, () if sweep.jitter is None else sweep.jitter.rows
        at_jitter = {row.solver for row in rows if row.jitter == problem.jitter}
        if sweep.jitter is None or not set(SOLVERS) <= at_jitter:
            return False
        advice = advice_from(sweep.jitter, problem.solver, problem.jitter)
        model.receive_advice(replace(advice, problem=problem, x=model.x))
        return True

    def _on_sweep_changed(self) -> None:
        """A sweep that became final may hold the advice of a problem that changed only
        its jitter or solver while it ran."""
        if self._model.advice.phase == "measuring":
            self._advice_from_sweep()

    def cancel_sweep(self) -> None:
        self._sweep_debounce.stop()
        self._model.cancel_sweep()
        self._sweeps.cancel()

    # --- internals ---------------------------------------------------------------------

    def _submit(self) -> None:
        model = self._model
        self._compute.submit(model.problem, model.x)
        self._follow_in_sweeps()

    def _follow_in_sweeps(self) -> None:
        """The Sweeps tab, when shown, sweeps the new probe once it rests."""
        if self._sweeps_shown:
            self._sweep_debounce.start()

    def _say_moved(self, x: float) -> None:
        """The probe asked for lay outside the new problem's domain (or theta's span)."""
        model = self._model
        axis = model.axis
        model.say(f"{axis.symbol} = {x:g} lies outside the new {axis.span}; moved to {model.x:g}")

    def _start_sweeps(self) -> None:
        """The sweep worker starts with the first sweep or advice (after a complete panel,
        so its TensorFlow import never competes with the first results)."""
        if not self._sweeps.isRunning():
            self._sweeps.start()

    def _remember(self, after: ProbeKey, text: str, merge: bool) -> None:
        """Push the change from the current (problem, x) to ``after`` onto the undo stack."""
        if not self._restoring:
            self._undo.push(StateChange(self.go_to, self._model.key, after, text, merge))

    def _on_undo_index_changed(self, index: int) -> None:
        """Cancel returns to the problem before the last change, while that change is the
        last step (a probe move since makes it a plain Undo)."""
        last = self._undo.command(index - 1)
        back_to = None
        if isinstance(last, StateChange) and last.changes_problem():
            back_to = last.before.problem
        self._model.set_cancel_to(back_to)

    def _on_failed(self, failure: Failure) -> None:
        self._model.say(failure.message)
