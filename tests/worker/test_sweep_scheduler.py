"""The sweep worker's decisions, event by event with a fake clock: no Qt, no process."""

from __future__ import annotations

from gradviz.core.analysis.advice import Advice, Cause, Measured
from gradviz.core.analysis.sweep import JitterSweep
from gradviz.core.problem.spec import Problem
from gradviz.worker.messages import (
    AdviceDone,
    SweepDone,
    SweepFailed,
    SweepNote,
    SweepPartial,
    SweepProgress,
    SweepRequest,
    SweepResult,
)
from gradviz.worker.restarts import MAX_CRASHES, backoff_s
from gradviz.worker.sweep_scheduler import (
    EmitSweep,
    SendSweep,
    StartSweeper,
    StopSweeper,
    SweepAction,
    SweepScheduler,
)

SMALL = Problem(n=20)
SILENT = 10.0


def sweep(x: float = 1.0, seconds: float = 1.0) -> JitterSweep:
    return JitterSweep(SMALL, x, (), (), None, {}, seconds)


class Run:
    def __init__(self) -> None:
        self.scheduler = SweepScheduler(silent_s=SILENT)
        self.now = 0.0
        self.actions: list[SweepAction] = []

    def do(self, name: str, *args: object) -> list[SweepAction]:
        method = getattr(self.scheduler, name)
        actions = method(*args, self.now) if name != "submit" else method(*args[:2], self.now)
        self.actions += actions
        return actions

    def later(self, seconds: float) -> list[SweepAction]:
        self.now += seconds
        return self.do("tick")

    def sent(self) -> list[SweepRequest]:
        return [a.request for a in self.actions if isinstance(a, SendSweep)]

    def records(self) -> list[object]:
        return [a.record for a in self.actions if isinstance(a, EmitSweep)]

    def notes(self) -> list[SweepNote]:
        return [r for r in self.records() if isinstance(r, SweepNote)]

    def results(self) -> list[SweepResult]:
        return [r for r in self.records() if isinstance(r, SweepResult)]

    def count(self, kind: type) -> int:
        return sum(isinstance(a, kind) for a in self.actions)


def test_the_latest_request_wins_and_a_superseded_reply_is_dropped() -> None:
    run = Run()
    run.do("submit", SMALL, 1.0)
    run.do("submit", SMALL, 2.0)
    first, second = run.sent()
    assert run.count(StartSweeper) == 1 and (first.x, second.x) == (1.0, 2.0)
    run.do("message", SweepPartial(first.serial, sweep(1.0)))
    assert run.results() == []
    run.do("message", SweepPartial(second.serial, sweep(2.0)))
    run.do("message", SweepDone(second.serial, sweep(2.0)))
    assert [(r.sweep.x, r.final) for r in run.results()] == [(2.0, False), (2.0, True)]
    assert run.notes()[-1].phase == "done"


def test_done_says_the_wall_time_since_the_request() -> None:
    run = Run()
    run.do("submit", SMALL, 1.0)
    run.now = 21.0
    run.do("message", SweepDone(run.sent()[0].serial, sweep(1.0, seconds=13.0)))
    assert run.notes()[-1].text == "done in 21 s"


def test_a_killed_process_is_restarted_for_the_same_sweep_and_says_its_results_are_gone() -> None:
    run = Run()
    run.do("submit", SMALL, 1.0)
    run.do("message", SweepPartial(run.sent()[0].serial, sweep()))
    run.do("exited", -9)
    assert run.count(StartSweeper) == 2
    assert run.sent()[-1] == run.sent()[0]
    note = run.notes()[-1]
    assert note.restarted and "ended (code -9)" in note.text and note.phase == "running"


def test_a_silent_process_is_killed_and_restarted_but_not_while_paused() -> None:
    run = Run()
    run.do("submit", SMALL, 1.0)
    run.do("pause", True)
    run.later(10 * SILENT)
    assert run.count(StopSweeper) == 0
    assert run.scheduler.next_deadline() is None
    run.do("pause", False)
    run.later(SILENT / 2)
    run.do("message", SweepProgress(run.sent()[0].serial, "float32"))
    run.later(SILENT / 2)
    assert run.count(StopSweeper) == 0  # it spoke
    run.later(SILENT + 1)
    assert run.count(StopSweeper) == 1 and run.count(StartSweeper) == 2
    assert "silent" in run.notes()[-1].text and run.notes()[-1].restarted


def test_nothing_is_started_or_sent_while_paused() -> None:
    run = Run()
    run.do("pause", True)
    run.do("submit", SMALL, 1.0)
    assert run.count(StartSweeper) == 0 and run.sent() == []
    run.do("pause", False)
    assert run.count(StartSweeper) == 1 and len(run.sent()) == 1


def test_repeated_failures_back_off_and_retry_starts_at_once() -> None:
    run = Run()
    run.do("submit", SMALL, 1.0)
    for _ in range(MAX_CRASHES):
        run.do("exited", 1)
    assert run.count(StartSweeper) == MAX_CRASHES
    waiting = run.notes()[-1]
    assert waiting.phase == "waiting" and waiting.retry
    assert run.scheduler.next_deadline() == run.now + backoff_s(MAX_CRASHES)
    run.do("retry")
    assert run.count(StartSweeper) == MAX_CRASHES + 1


def test_cancel_ends_a_running_sweep_and_a_failure_is_a_result() -> None:
    run = Run()
    run.do("submit", SMALL, 1.0)
    run.do("cancel")
    assert run.count(StopSweeper) == 1 and run.notes()[-1].phase == "cancelled"
    run.do("submit", SMALL, 2.0)
    run.do("message", SweepFailed(run.sent()[-1].serial, "ValueError: bad"))
    assert run.notes()[-1].phase == "failed" and "ValueError" in run.notes()[-1].text
    run.do("exited", 0)  # an idle process that ends owes nothing: no restart
    assert run.count(StartSweeper) == 2


def advice_record(x: float = 1.0) -> Advice:
    given = Measured("inverse", 0.0, 0.0)
    return Advice(
        problem=SMALL,
        x=x,
        as_given={"float32": given, "float64": given},
        same_jitter={"float32": None, "float64": None},
        best={"float32": None, "float64": None},
        advised={"float32": given, "float64": given},
        cause=Cause("none", None, "nothing to change"),
        truth_jitter=None,
        truth=None,
        seconds=1.0,
    )


def test_an_advice_request_ends_with_its_advice_and_its_notes_say_so() -> None:
    run = Run()
    run.actions += run.scheduler.submit(SMALL, 1.0, run.now, full=False)
    (request,) = run.sent()
    assert not request.full
    assert run.notes() and all(note.advice_only for note in run.notes())
    run.do("message", AdviceDone(request.serial, advice_record()))
    assert advice_record() in run.records()
    assert run.notes()[-1].phase == "done" and run.notes()[-1].advice_only
    run.later(SILENT * 3)
    assert run.count(StopSweeper) == 0  # done: nothing owed, no watchdog
    run.do("submit", SMALL, 1.0)  # then a whole sweep of the same x
    assert run.sent()[-1].full


def test_a_whole_sweep_brings_its_advice_and_goes_on_to_the_end() -> None:
    run = Run()
    run.do("submit", SMALL, 1.0)
    (request,) = run.sent()
    run.do("message", AdviceDone(request.serial, advice_record()))
    assert advice_record() in run.records()
    assert run.notes()[-1].phase == "running"  # the step sweep is still to come
    run.do("message", SweepDone(request.serial, sweep()))
    assert run.notes()[-1].phase == "done" and not run.notes()[-1].advice_only
