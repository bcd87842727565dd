"""Shared GUI fixtures: realistic result records (``records.py``: numpy only, no
TensorFlow), a model fed with them, a window over recorded workers (``fake_workers.py``:
no process, no TensorFlow), and mouse settings."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from fake_workers import RecordedCompute, RecordedSweeps
from PyQt6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from records import Records, make_records, make_report

from gradviz.core.numerics.results import Curves, PrecisionCurves, ProbeReport, ReferenceCurve
from gradviz.core.problem.spec import DEFAULT_X, Problem
from gradviz.gui.app import open_window
from gradviz.gui.main_window import MainWindow
from gradviz.gui.model import WindowModel
from gradviz.gui.plots import PlotStack
from gradviz.gui.settings import WindowSettings
from gradviz.worker.messages import DataReady

FAST = Problem(n=40, jitter=1e-6, solver="cholesky")


class Feed:
    """Writes records into a model as the controller does when a worker sends them."""

    def __init__(self, model: WindowModel) -> None:
        self.model = model

    def problem(self, problem: Problem) -> None:
        self.model.set_problem(problem, self.model.x)

    def x(self, x: float) -> None:
        self.model.move_probe(x)

    def data(self, grid: np.ndarray, y: np.ndarray) -> None:
        self.model.receive_data(DataReady(self.model.problem, grid, y))

    def curves(self, curves: Curves) -> None:
        self.model.receive_curves(curves)

    def truth(self, truth: ReferenceCurve) -> None:
        self.model.receive_truth(truth)

    def precision(self, precision: PrecisionCurves) -> None:
        self.model.receive_precision(precision)

    def report(self, report: ProbeReport) -> None:
        self.model.receive_report(report)

    def records(self, records: Records) -> None:
        """Everything for ``records.problem``, the report at its x."""
        self.model.set_problem(records.problem, records.report.result.x)
        self.data(records.data.grid, records.data.y)
        self.curves(records.curves)
        self.report(records.report)
        self.truth(records.truth)
        self.precision(records.precision)


@pytest.fixture
def records() -> Records:
    """Realistic records for Problem(n=40, jitter=1e-6, solver="cholesky")."""
    return make_records()


@pytest.fixture
def report_factory() -> Callable[..., ProbeReport]:
    """:func:`make_report`, for tests that need another x, reference or failed cells."""
    return make_report


@pytest.fixture
def records_factory() -> Callable[..., Records]:
    """:func:`make_records`, for tests that need a second problem."""
    return make_records


@pytest.fixture
def no_mouse_rate_limit() -> Iterator[None]:
    """Deliver every synthetic mouse move: pyqtgraph drops moves closer than 10 ms."""
    previous = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOption("mouseRateLimit", -1)
    yield
    pg.setConfigOption("mouseRateLimit", previous)


@pytest.fixture
def feed(records: Records) -> Feed:
    """A model of the records' problem at x = 2, and a way to write more records into it."""
    return Feed(WindowModel(records.problem, records.report.result.x))


@pytest.fixture
def stack(qtbot, records: Records, feed: Feed) -> PlotStack:
    """A shown PlotStack of a model holding the problem, its data, curves and report at
    x = 2, the reference over x and the precision."""
    widget = PlotStack(feed.model)
    qtbot.addWidget(widget)
    widget.resize(900, 800)
    with qtbot.waitExposed(widget):
        widget.show()
    feed.records(records)
    return widget


@dataclass
class Lab:
    """A window over recorded workers, its settings, and every model signal since it was
    built (so a test can ask "has this arrived yet?" without racing a signal)."""

    window: MainWindow
    compute: RecordedCompute
    sweeps: RecordedSweeps
    settings: WindowSettings
    settings_file: Path
    events: list[tuple[str, object]] = field(default_factory=list)

    @property
    def model(self) -> WindowModel:
        return self.window.model

    def record(self, kind: str) -> Callable[..., None]:
        def append(*args: object) -> None:
            self.events.append((kind, args[0] if args else None))

        return append

    def mark(self) -> int:
        """Position in the event log; pass to :meth:`since`."""
        return len(self.events)

    def since(self, mark: int, kind: str) -> list[object]:
        return [payload for name, payload in self.events[mark:] if name == kind]

    def settle(self, qtbot: QtBot) -> None:
        """Until the recorded workers' answers are in: the model is complete."""
        qtbot.waitUntil(self.model.is_complete, timeout=5_000)


MODEL_SIGNALS = ("problem_changed", "probe_moved", "data_changed", "report_changed", "completed")


@pytest.fixture
def open_lab(qtbot: QtBot, tmp_path: Path) -> Iterator[Callable[..., Lab]]:
    """Build a window of ``problem`` at ``x`` over recorded workers, with settings in an
    isolated INI file, and show it (unless ``show=False``). No process is started."""
    labs: list[Lab] = []

    def open_(
        problem: Problem = FAST, x: float = DEFAULT_X, show: bool = True, reference: bool = True
    ) -> Lab:
        settings_file = tmp_path / "gradviz.ini"
        settings = WindowSettings(QSettings(str(settings_file), QSettings.Format.IniFormat))
        compute, sweeps = RecordedCompute(reference=reference), RecordedSweeps()
        window = open_window(WindowModel(problem, x), settings, compute, sweeps)
        qtbot.addWidget(window)
        lab = Lab(window, compute, sweeps, settings, settings_file)
        for name in MODEL_SIGNALS:
            getattr(window.model, name).connect(lab.record(name))
        labs.append(lab)
        if show:
            with qtbot.waitExposed(window):
                window.show()
        return lab

    yield open_
    for lab in labs:
        lab.window.close()
    assert multiprocessing.active_children() == [], "a window test started a process"


@pytest.fixture
def lab(open_lab: Callable[..., Lab], qtbot: QtBot) -> Lab:
    """A shown window on the fast problem (n = 40, jitter 1e-6, Cholesky) at x = 2, its
    first results in."""
    opened = open_lab()
    opened.settle(qtbot)
    return opened
