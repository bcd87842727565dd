"""The worker's decisions, driven event by event with a fake clock: no Qt, no pipes, no
processes and no TensorFlow. Each test plays one awkward sequence a user can cause."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from gradviz.core.analysis.diagnosis import Conditioning
from gradviz.core.numerics.reference import reference_curve
from gradviz.core.numerics.results import (
    Ball,
    Curves,
    PrecisionCurves,
    ProbeReport,
    ProbeResult,
    Reference,
    ReferenceCurve,
)
from gradviz.core.problem.spec import Problem, ProblemError
from gradviz.worker.actions import (
    Action,
    Emit,
    Pause,
    Role,
    Send,
    StartPaths,
    StartProblem,
    Stop,
)
from gradviz.worker.messages import (
    Conditioned,
    CurvesDone,
    CurvesRequest,
    DataReady,
    Failure,
    LoadData,
    PathsFailed,
    PathsReady,
    ProbeDone,
    ProbeRequest,
    ProblemFailed,
    Progress,
    ReferenceCurveDone,
    ReferenceDone,
    ReferenceRequest,
    ReferenceSolved,
    Sampled,
)
from gradviz.worker.scheduler import ABANDON_AFTER_S, Scheduler

SMALL = Problem(n=5, jitter=1e-6, solver="cholesky")
OTHER = SMALL.replace(n=6)
BUDGET = 10.0
COND = Conditioning(value=10.0, saturated=False, lambda_max=2.0)


def fits(problem: Problem) -> None:
    """Every problem fits: the tests must not depend on this machine's free memory."""


def sample(problem: Problem) -> Sampled:
    grid = np.linspace(*problem.domain, problem.n)
    return Sampled(problem, grid, np.ones(problem.n))


def curves(problem: Problem) -> Curves:
    xs = np.linspace(*problem.domain, 3)
    both = {"float32": xs, "float64": xs}
    return Curves(problem, xs, both, both, xs, {"float32": None, "float64": None})


def reference(value: float) -> Reference:
    return Reference("exact", mu=Ball(value, 0.0), grad=Ball(value, 0.0), precision_bits=128)


class Run:
    """A scheduler, a clock and every action it returned, with filters for asserting."""

    def __init__(self, budget_s: float | None = BUDGET) -> None:
        self.scheduler = Scheduler(budget_s, fits_memory=fits)
        self.now = 0.0
        self.actions: list[Action] = []

    def do(self, name: str, *args: object) -> list[Action]:
        actions = getattr(self.scheduler, name)(*args, self.now)
        self.actions += actions
        return actions

    def later(self, seconds: float) -> list[Action]:
        self.now += seconds
        return self.do("tick")

    def sent(self, role: Role, kind: type | None = None) -> list[object]:
        return [
            a.message
            for a in self.actions
            if isinstance(a, Send)
            and a.role is role
            and (kind is None or isinstance(a.message, kind))
        ]

    def emitted(self, kind: type) -> list[object]:
        return [
            a.record for a in self.actions if isinstance(a, Emit) and isinstance(a.record, kind)
        ]

    def count(self, kind: type) -> int:
        return sum(isinstance(a, kind) for a in self.actions)

    def ready(self, problem: Problem = SMALL, x: float = 1.0) -> None:
        """Started, TensorFlow loaded, ``problem`` requested and sampled."""
        self.do("start")
        self.do("paths_message", PathsReady(1.0))
        self.do("request", problem, x)
        self.do("problem_message", sample(problem))
        self.do("problem_message", Conditioned(problem, COND))

    def answer_paths(self) -> object:
        """Answer the request in flight (the last one sent to the paths process)."""
        request = self.sent(Role.PATHS)[-1]
        if isinstance(request, ProbeRequest):
            result = ProbeResult(request.problem, request.x, cells=())
            self.do("paths_message", ProbeDone(result))
        else:
            assert isinstance(request, CurvesRequest)
            self.do("paths_message", CurvesDone(curves(request.problem)))
        return request


def test_the_scheduler_imports_neither_qt_nor_tensorflow() -> None:
    code = (
        "import sys, gradviz.worker.scheduler, gradviz.worker.messages;"
        "print(sorted(m for m in ('PyQt6', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_first_request_loads_data_then_probes_then_draws_curves() -> None:
    run = Run()
    assert run.do("start") == [
        StartPaths(),
        Emit(Progress("tensorflow", "Loading TensorFlow…", True)),
    ]
    run.do("request", SMALL, 1.0)
    assert StartProblem(SMALL, BUDGET) in run.actions
    assert run.sent(Role.PATHS) == []  # TensorFlow is not ready and there is no data yet

    run.do("paths_message", PathsReady(2.0))
    assert run.sent(Role.PATHS) == []  # still no data
    run.do("problem_message", sample(SMALL))
    [data] = run.emitted(DataReady)
    assert data.problem == SMALL
    load, probe = run.sent(Role.PATHS)
    assert isinstance(load, LoadData) and load.problem == SMALL
    assert probe == ProbeRequest(SMALL, 1.0)

    run.answer_paths()
    assert run.sent(Role.PATHS)[-1] == CurvesRequest(SMALL)
    [report] = run.emitted(ProbeReport)
    assert report.result.x == 1.0 and report.reference is None and report.reference_pending
    run.answer_paths()
    assert [c.problem for c in run.emitted(Curves)] == [SMALL]


def test_a_drag_of_500_moves_faster_than_answers_sends_one_probe_at_a_time() -> None:
    run = Run()
    run.ready()
    run.answer_paths()  # the probe of x = 1
    run.answer_paths()  # the curves
    xs = np.linspace(-4, 4, 500)
    for x in xs:
        run.now += 0.001
        run.do("request", SMALL, float(x))
    probes = run.sent(Role.PATHS, ProbeRequest)
    assert len(probes) == 2  # x = 1, then the first move; the rest wait
    run.answer_paths()
    assert run.sent(Role.PATHS, ProbeRequest)[-1] == ProbeRequest(SMALL, float(xs[-1]))
    run.answer_paths()
    assert len(run.sent(Role.PATHS, ProbeRequest)) == 3  # nothing more: the latest is answered
    assert [r.result.x for r in run.emitted(ProbeReport)][-1] == float(xs[-1])


def test_a_problem_change_while_a_probe_is_in_flight_drops_its_answer_and_abandons_it() -> None:
    run = Run()
    run.ready()
    assert run.sent(Role.PATHS)[-1] == ProbeRequest(SMALL, 1.0)
    run.do("request", OTHER, 1.0)
    assert Stop(Role.PROBLEM) in run.actions and StartProblem(OTHER, BUDGET) in run.actions

    # The old answer arrives in time: it is dropped, never shown as the new problem's.
    run.answer_paths()
    assert run.emitted(ProbeReport) == []

    # Nothing is sent for OTHER before it is sampled; then its data, and (a probe went
    # last) its curves, then its probe.
    assert len(run.sent(Role.PATHS)) == 2
    run.do("problem_message", sample(OTHER))
    run.do("problem_message", Conditioned(OTHER, COND))
    load, request = run.sent(Role.PATHS)[-2:]
    assert isinstance(load, LoadData) and load.problem == OTHER
    assert request == CurvesRequest(OTHER)
    run.answer_paths()
    assert run.sent(Role.PATHS)[-1] == ProbeRequest(OTHER, 1.0)


def test_a_long_request_for_an_old_problem_is_abandoned_by_restarting_tensorflow() -> None:
    run = Run()
    run.ready()
    run.do("request", OTHER, 1.0)
    run.later(ABANDON_AFTER_S / 2)
    assert run.count(StartPaths) == 1
    run.later(ABANDON_AFTER_S)
    assert Stop(Role.PATHS) in run.actions and run.count(StartPaths) == 2
    assert run.emitted(Failure) == []  # abandoning is a decision, not a crash


def test_a_reference_finishing_after_the_problem_changed_is_dropped() -> None:
    run = Run()
    run.ready()
    run.do("problem_message", ReferenceSolved(SMALL))
    assert run.sent(Role.PROBLEM) == [ReferenceRequest(1.0)]
    run.do("request", OTHER, 1.0)
    run.do("problem_message", ReferenceDone(SMALL, 1.0, reference(3.0)))
    run.do("problem_message", sample(OTHER))
    run.do("problem_message", Conditioned(OTHER, COND))
    run.answer_paths()  # the old probe
    run.answer_paths()  # OTHER's curves
    run.answer_paths()  # OTHER's probe
    reports = run.emitted(ProbeReport)
    assert reports and all(r.reference is None for r in reports)
    assert all(r.result.problem == OTHER for r in reports)


def test_the_reference_joins_the_report_when_it_arrives() -> None:
    run = Run()
    run.ready()
    run.answer_paths()
    run.do("problem_message", ReferenceSolved(SMALL))
    run.do("problem_message", ReferenceDone(SMALL, 1.0, reference(3.0)))
    final = run.emitted(ProbeReport)[-1]
    assert final.reference == reference(3.0) and not final.reference_pending


def test_tensorflow_crashing_three_times_backs_off_offers_retry_and_restarts_on_demand() -> None:
    run = Run()
    run.ready()
    for crash in range(1, 4):
        run.do("paths_exited", -9)
        assert run.count(StartPaths) == min(crash + 1, 3)
    waiting = run.emitted(Progress)[-1]
    assert waiting.task == "tensorflow" and waiting.retry and not waiting.busy
    assert "3 times" in waiting.message
    assert len(run.emitted(Failure)) == 3
    assert run.scheduler.next_deadline() is not None

    run.later(1.0)
    assert run.count(StartPaths) == 3  # still backing off
    run.do("retry")
    assert run.count(StartPaths) == 4  # Retry starts it at once

    run.do("paths_exited", -9)
    assert run.count(StartPaths) == 4  # failing again: a longer back-off
    run.later(1000.0)
    assert run.count(StartPaths) == 5  # ... which ends by itself

    run.do("paths_exited", -9)
    run.do("request", OTHER, 0.0)
    assert run.count(StartPaths) == 6  # a new problem is worth a new try at once


def test_an_answer_resets_the_crash_count() -> None:
    run = Run()
    run.ready()
    run.do("paths_exited", -9)
    run.do("paths_exited", -9)
    run.do("paths_message", PathsReady(1.0))
    run.answer_paths()
    run.do("paths_exited", -9)
    assert run.count(StartPaths) == 4
    assert not any(p.retry for p in run.emitted(Progress))


def test_a_silent_tensorflow_is_killed_after_its_deadline_and_the_request_resent() -> None:
    run = Run()
    run.ready()
    run.later(30.0)  # the first probe builds everything: no kill yet
    assert run.count(StartPaths) == 1
    run.answer_paths()
    run.answer_paths()
    run.do("request", SMALL, 2.0)
    assert run.sent(Role.PATHS)[-1] == ProbeRequest(SMALL, 2.0)
    run.later(4.0)
    assert run.count(StartPaths) == 1
    run.later(2.0)  # a warm probe silent for 6 s (>= 10 x what it took, floor 5 s)
    assert Stop(Role.PATHS) in run.actions and run.count(StartPaths) == 2
    assert "did not answer" in run.emitted(Failure)[-1].message

    run.do("paths_message", PathsReady(1.0))
    assert run.sent(Role.PATHS)[-2:] == [run.sent(Role.PATHS)[-2], ProbeRequest(SMALL, 2.0)]
    assert isinstance(run.sent(Role.PATHS)[-2], LoadData)


def test_the_first_curves_and_spread_of_a_probed_problem_have_the_cold_allowance() -> None:
    """Curves trace their own batch, and a probe's spread its 16 perturbed programs per
    dtype, which a probe without them never built: on a loaded machine the first curves
    took over 5 s after the first probe, and the watchdog restarted TensorFlow."""
    run = Run()
    run.ready()
    run.do("drag", True)
    run.answer_paths()  # the first probe, with its spread
    run.do("request", SMALL, 1.5)
    assert run.sent(Role.PATHS)[-1] == ProbeRequest(SMALL, 1.5, spread=False)
    run.later(20.0)  # the first probe without the spread: cold as well
    run.answer_paths()
    run.do("drag", False)
    assert run.sent(Role.PATHS)[-1] == CurvesRequest(SMALL)
    run.later(20.0)
    assert run.count(StartPaths) == 1 and not run.emitted(Failure)
    run.answer_paths()
    run.answer_paths()  # x = 1.5 with its spread: warm now, its floor 5 s
    run.do("request", SMALL, 2.0)
    run.later(6.0)
    assert run.count(StartPaths) == 2 and "did not answer" in run.emitted(Failure)[-1].message


def test_a_problem_process_that_dies_or_hangs_before_sampling_is_restarted() -> None:
    run = Run()
    run.do("start")
    run.do("request", SMALL, 1.0)
    run.do("problem_exited", -9)
    assert run.count(StartProblem) == 2
    assert "restarting" in run.emitted(Failure)[-1].message
    run.later(29.0)
    assert run.count(StartProblem) == 2
    run.later(2.0)  # silent past its floor while it owes the sample
    assert run.count(StartProblem) == 3 and Stop(Role.PROBLEM) in run.actions

    run.do("problem_message", sample(SMALL))
    assert [d.problem for d in run.emitted(DataReady)] == [SMALL]


def test_a_reference_failure_is_final_and_the_report_says_so() -> None:
    run = Run()
    run.ready()
    run.answer_paths()
    run.do("problem_message", ProblemFailed(SMALL, "reference", "MemoryError: no"))
    assert Stop(Role.PROBLEM) in run.actions
    run.later(1000.0)
    assert run.count(StartProblem) == 1  # nothing to restart: it answered with a failure
    last = run.emitted(ProbeReport)[-1]
    assert "reference failed" in last.reference_note and not last.reference_pending


def test_a_failed_request_is_reported_once_and_the_worker_carries_on() -> None:
    run = Run()
    run.ready()
    request = run.sent(Role.PATHS)[-1]
    run.do("paths_message", PathsFailed(request, "ValueError: bad"))
    assert run.emitted(Failure)[-1] == Failure("probe failed: ValueError: bad")
    assert run.sent(Role.PATHS)[-1] == CurvesRequest(SMALL)


def test_a_problem_that_does_not_fit_in_memory_is_refused_without_a_process() -> None:
    def refuse(problem: Problem) -> None:
        raise ProblemError("n", problem.n, "at most 3 on this machine")

    scheduler = Scheduler(BUDGET, fits_memory=refuse)
    actions = scheduler.start(0.0) + scheduler.request(SMALL, 1.0, 0.0)
    assert not any(isinstance(a, StartProblem) for a in actions)
    failures = [a.record for a in actions if isinstance(a, Emit) and isinstance(a.record, Failure)]
    assert len(failures) == 1 and "at most 3" in failures[0].message


def test_without_a_reference_the_report_is_final_at_once() -> None:
    run = Run(budget_s=None)
    run.ready()
    run.answer_paths()
    assert StartProblem(SMALL, None) in run.actions
    [report] = run.emitted(ProbeReport)
    assert not report.reference_pending and report.reference_note == "reference off"


def test_the_reference_curve_reaches_the_window_only_for_the_current_problem() -> None:
    run = Run()
    run.ready()
    old = reference_curve(SMALL, [0.0], [reference(1.0)], complete=False)
    assert old is not None
    run.do("problem_message", ReferenceCurveDone(SMALL, old))
    assert run.emitted(ReferenceCurve) == [old]
    run.do("request", OTHER, 1.0)
    run.do("problem_message", ReferenceCurveDone(SMALL, old))
    assert run.emitted(ReferenceCurve) == [old]  # the late one was dropped


def test_precision_curves_follow_once_curves_and_reference_curve_are_both_in() -> None:
    run = Run()
    run.ready()
    run.answer_paths()  # probe
    drawn = run.answer_paths()  # curves: grad = x on [-5, 0, 5] in both dtypes
    assert isinstance(drawn, CurvesRequest)
    assert run.emitted(PrecisionCurves) == []
    truth = [reference(-5.0 * (1 + 1e-4)), reference(1.0), reference(5.0)]
    curve = reference_curve(SMALL, [-5.0, 0.0, 5.0], truth, complete=True)
    assert curve is not None
    run.do("problem_message", ReferenceCurveDone(SMALL, curve))
    [precision] = run.emitted(PrecisionCurves)
    # -log10(|-5 - -5.0005| / 5.0005) = 4.0000434..., 0 against 1: no digit, 5 vs 5: all
    # the dtype holds, -log10(eps / 2).
    for dtype, bits in (("float32", 24), ("float64", 53)):
        expected = [-math.log10(5e-4 / 5.0005), 0.0, -math.log10(2.0**-bits)]
        assert precision.digits[dtype] == pytest.approx(expected)
    assert precision.left is not None and precision.left["float64"] == pytest.approx(
        -math.log10(np.finfo(np.float64).eps) - 1.0
    )


def test_a_reference_for_another_x_sends_no_report_the_window_would_repaint_for_nothing() -> None:
    run = Run()
    run.ready()
    run.do("problem_message", ReferenceSolved(SMALL))
    run.answer_paths()  # the probe of x = 1
    run.do("problem_message", ReferenceDone(SMALL, 1.0, reference(3.0)))
    shown = len(run.emitted(ProbeReport))
    run.answer_paths()  # curves
    run.do("request", SMALL, 2.0)  # a drag step: the reference of x = 2 comes first
    run.do("problem_message", ReferenceDone(SMALL, 2.0, reference(4.0)))
    assert len(run.emitted(ProbeReport)) == shown  # no repaint of x = 1's report
    run.answer_paths()  # the probe of x = 2: its report has the reference at once
    last = run.emitted(ProbeReport)[-1]
    assert last.result.x == 2.0 and last.reference == reference(4.0)
    assert not last.reference_pending


def test_a_drag_runs_only_the_probes_paths_and_its_end_brings_everything_back() -> None:
    """While the user drags: probes without the spread, no curves of a new problem, the
    problem process paused once its sample is in (its silence not counted); on release
    the same x is probed again with its spread, the curves come, and the process goes on."""
    run = Run()
    run.ready()  # SMALL at x = 1: sampled, TensorFlow ready, the first probe sent
    run.do("problem_message", ReferenceSolved(SMALL))
    assert run.sent(Role.PROBLEM, ReferenceRequest) == [ReferenceRequest(1.0)]
    run.do("drag", True)
    assert run.actions[-1] == Pause(Role.PROBLEM, True) or Pause(Role.PROBLEM, True) in run.actions
    run.answer_paths()
    run.do("request", SMALL, 1.5)
    assert run.sent(Role.PATHS)[-1] == ProbeRequest(SMALL, 1.5, spread=False)
    run.answer_paths()
    assert run.sent(Role.PATHS, CurvesRequest) == []  # the curves wait for the release
    run.later(1000.0)  # a long drag: the paused process owes a reference, yet is not "silent"
    assert run.count(StartProblem) == 1 and Stop(Role.PROBLEM) not in run.actions
    [report] = run.emitted(ProbeReport)[-1:]
    assert report.result.x == 1.5 and report.reference_note == "reference: after the drag"
    run.do("drag", False)
    assert Pause(Role.PROBLEM, False) in run.actions
    run.answer_paths()  # the curves, first
    run.answer_paths()  # then x = 1.5 again, with its spread
    assert run.sent(Role.PATHS, CurvesRequest) == [CurvesRequest(SMALL)]
    assert run.sent(Role.PATHS, ProbeRequest)[-1] == ProbeRequest(SMALL, 1.5, spread=True)
    run.do("problem_message", ReferenceDone(SMALL, 1.0, reference(1.0)))
    assert run.sent(Role.PROBLEM, ReferenceRequest)[-1] == ReferenceRequest(1.5)


def test_the_curves_of_an_lml_quantity_get_a_factorization_per_theta_before_a_restart() -> None:
    """Along theta every curve point builds K and its factor again (100 of them): even
    warm, such curves are no hang at 50 s for n = 300, and the time they took does not
    stretch the watchdog of the mean's curves."""
    lml = SMALL.replace(n=300, quantity="lml-lengthscale")
    run = Run()

    def show(problem: Problem, x: float, curves_s: float) -> None:
        """Ask for ``problem``, answer its probe at once and its curves after curves_s."""
        run.do("request", problem, x)
        run.do("problem_message", sample(problem))  # each problem's process samples it
        run.do("problem_message", Conditioned(problem, COND))
        run.answer_paths()  # the probe
        assert run.sent(Role.PATHS)[-1] == CurvesRequest(problem)
        run.later(curves_s)
        run.answer_paths()

    run.do("start")
    run.do("paths_message", PathsReady(1.0))
    show(lml, lml.default_x, 1.0)
    show(SMALL, 1.0, 1.0)
    show(lml, lml.default_x, 50.0)  # warm curves along theta, slow: no restart
    assert run.count(StartPaths) == 1 and Stop(Role.PATHS) not in run.actions
    assert [c.problem for c in run.emitted(Curves)] == [lml, SMALL, lml]
    # Back to the mean: its warm curves keep the 5 s floor, a hang is caught in seconds.
    run.do("request", SMALL, 1.0)
    run.do("problem_message", sample(SMALL))
    run.do("problem_message", Conditioned(SMALL, COND))
    run.answer_paths()
    assert run.sent(Role.PATHS)[-1] == CurvesRequest(SMALL)
    run.later(6.0)
    assert run.count(StartPaths) == 2
