"""The window's File menu: sessions (open, save, recent), data files, the problem as a
script, screenshots and the curves as CSV.

Every dialog is asked here; what is written comes from the model (the problem, x and the
results on screen) and the views (what the user looks at). Failures are message boxes
with the reason; nothing changes when a file cannot be read.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PyQt6.QtWidgets import QApplication, QDialog, QFileDialog, QMenu, QMessageBox

from gradviz.core.io.curve_export import CurvesExport, to_csv
from gradviz.core.io.data_file import DataFileError, load_data
from gradviz.core.io.environment import environment
from gradviz.core.io.files import SaveError, save_text
from gradviz.core.io.script import script_text, script_unsupported
from gradviz.core.io.session import Session, SessionError, View, load_session, save_session
from gradviz.core.problem.spec import COORDINATE_LIMIT
from gradviz.core.problem.vector import Vector
from gradviz.gui.export import ExportError, export_plots, export_window, window_image
from gradviz.gui.export_dialog import ExportChoice, ExportDialog, default_name

if TYPE_CHECKING:
    from gradviz.gui.main_window import MainWindow

SESSION_FILTER = "gradviz session (*.json)"
DATA_FILTER = "CSV, one row per x (*.csv)"
POINTS_FILTER = (
    "Data: x, y columns, .npy (n, 2), .npz with x and y (*.csv *.txt *.dat *.npy *.npz);;"
    "Any file (*)"
)
SCRIPT_FILTER = "Python program, numpy and TensorFlow only (*.py)"


class WindowFiles:
    """File > ... for one window."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window

    def _folder(self) -> Path:
        settings = self._window.settings
        return settings.export_folder() if settings is not None else Path.home()

    # --- sessions ------------------------------------------------------------------------

    def session(self) -> Session:
        """What a session file keeps: the problem with its y (the sample drawn here, pinned
        so that the file is the same problem on any machine), x and the view."""
        window = self._window
        x_range: tuple[float, float] | None = window.plots.view_x_range()
        if not all(math.isfinite(v) and abs(v) <= COORDINATE_LIMIT for v in x_range or ()):
            x_range = None  # a view zoomed out of any meaning is not worth keeping
        view = View(show_mu=window.panel.shows_mu(), x_range=x_range)
        problem, data = window.model.problem, window.model.results.data
        if problem.y is None and data is not None and data.problem == problem:
            problem = problem.replace(y=Vector.of(data.y))
        return Session(problem=problem, x=window.model.x, view=view)

    def apply_session(self, session: Session) -> None:
        """Show a loaded (already validated) session: problem, x, then the view."""
        window = self._window
        window.controller.apply_session(session)
        window.apply_view(session.view)

    def open_session(self, path: Path) -> bool:
        """Load a session file and show it, or say why not; nothing changes on failure."""
        try:
            session = load_session(path)
        except SessionError as error:
            QMessageBox.warning(self._window, "Cannot open session", str(error))
            return False
        self.apply_session(session)
        self._remember(path)
        self._window.model.say(f"Opened {path}")
        return True

    def _ask_open(self, title: str, file_filter: str, open_: Callable[[Path], bool]) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self._window, title, str(self._folder()), file_filter
        )
        if chosen:
            open_(Path(chosen))

    def ask_open_session(self) -> None:
        self._ask_open("Open session", SESSION_FILTER, self.open_session)

    def open_data(self, path: Path) -> bool:
        """Put the points of a data file under the current kernel, jitter and solver, the
        probe in the middle of their range; or say why not (nothing changes)."""
        window = self._window
        try:
            points, y = load_data(path)
        except DataFileError as error:
            QMessageBox.warning(window, "Cannot open data", str(error))
            return False
        problem = window.model.problem.replace(points=points, y=y)
        window.controller.apply_session(Session(problem, problem.default_x))
        window.model.say(f"Opened {path}: {problem.n} points")
        return True

    def ask_open_data(self) -> None:
        self._ask_open("Open data", POINTS_FILTER, self.open_data)

    def ask_save_session(self) -> None:
        path = self._ask_save_path("Save session", ".json", SESSION_FILTER)
        if path is None:
            return
        try:
            save_session(path, self.session())
        except SaveError as error:
            QMessageBox.warning(self._window, "Cannot save session", str(error))
            return
        self._remember(path)
        self._window.model.say(f"Saved {path}")

    def fill_recent_menu(self, menu: QMenu) -> None:
        """File > Open Recent, rebuilt from the settings each time it opens."""
        menu.clear()
        settings = self._window.settings
        recent = [] if settings is None else settings.recent_sessions()
        for index, path in enumerate(recent, start=1):
            action = menu.addAction(f"&{index} {path.name}")
            if action is not None:
                action.setToolTip(str(path))
                action.triggered.connect(functools.partial(self.open_session, path))
        if not recent:
            placeholder = menu.addAction("No recent sessions")
            if placeholder is not None:
                placeholder.setEnabled(False)

    def _remember(self, path: Path) -> None:
        if self._window.settings is not None:
            self._window.settings.add_recent_session(path)

    def _ask_save_path(self, title: str, suffix: str, file_filter: str) -> Path | None:
        """A file name from the Save dialog, with ``suffix`` appended when it has none
        (a session saved as "run1" must still show in the Open dialog's filter)."""
        model = self._window.model
        suggested = self._folder() / default_name(model.problem, model.x, suffix)
        chosen, _ = QFileDialog.getSaveFileName(self._window, title, str(suggested), file_filter)
        if not chosen:
            return None
        path = Path(chosen)
        return path if path.suffix.lower() == suffix else path.with_name(path.name + suffix)

    # --- data ----------------------------------------------------------------------------

    def curves_export(self) -> CurvesExport | None:
        """The curves on screen as data (File > Export data), None before they exist.
        The reference columns are filled once the reference covers the whole grid."""
        model = self._window.model
        results = model.results
        curves, truth = results.curves, results.truth
        if curves is None:
            return None
        if truth is None or not truth.complete or not np.array_equal(truth.x, curves.x):
            return CurvesExport(curves, None, None, None)
        report = model.report
        reference = None if report is None else report.reference
        return CurvesExport(curves, reference, truth, results.precision)

    def ask_export_data(self) -> None:
        export = self.curves_export()
        model = self._window.model
        if export is None:
            model.say("No curves yet: they are still being computed")
            return
        path = self._ask_save_path("Export data", ".csv", DATA_FILTER)
        if path is None:
            return
        try:
            save_text(path, to_csv(export))
        except SaveError as error:
            QMessageBox.warning(self._window, "Cannot export data", str(error))
            return
        missing = "" if export.reference_curve else " (the reference over x is not ready yet)"
        model.say(f"Exported {len(export.curves.x)} rows to {path}{missing}")

    # --- the problem as a program ----------------------------------------------------------

    def script(self, name: str | None = None) -> str | None:
        """The standalone program (``gradviz script``) for what is shown, once the sample
        and the measured advice of the current (problem, x) are in; None before."""
        model = self._window.model
        data, advice = model.results.data, model.advice.advice
        if data is None or advice is None or not model.is_current(model.advice.key):
            return None
        if script_unsupported(model.problem) is not None:
            return None
        return script_text(
            model.problem, data.y, model.x, advice, environment=environment(), name=name
        )

    def _script_missing(self) -> str:
        model = self._window.model
        unsupported = script_unsupported(model.problem)
        if unsupported is not None:
            return f"No script for this problem: {unsupported}"
        why = "it failed" if model.advice.phase == "failed" else "it is still being measured"
        return f"No script yet: it needs the measured advice, and {why}"

    def copy_script(self) -> None:
        text = self.script()
        clipboard = QApplication.clipboard()
        if text is None or clipboard is None:
            self._window.model.say(self._script_missing())
            return
        clipboard.setText(text)
        self._window.model.say(
            f"Copied the problem as a script ({text.count(chr(10))} lines; run it with python)"
        )

    def ask_save_script(self) -> None:
        if self.script() is None:
            self._window.model.say(self._script_missing())
            return
        path = self._ask_save_path("Save as script", ".py", SCRIPT_FILTER)
        if path is None:
            return
        text = self.script(path.name)
        if text is None:  # the problem or x changed while the dialog was open
            self._window.model.say(self._script_missing())
            return
        try:
            save_text(path, text)
        except SaveError as error:
            QMessageBox.warning(self._window, "Cannot save the script", str(error))
            return
        self._window.model.say(f"Saved {path}: run it with python {path.name}")

    # --- screenshots ---------------------------------------------------------------------

    def export(self, choice: ExportChoice) -> None:
        """Write the screenshot; raises ExportError with the reason."""
        window = self._window
        window.panel.flush()
        if choice.what == "window":
            export_window(window, choice.path, choice.width)
        else:
            export_plots(window.plots, choice.path, choice.width)

    def ask_export(self) -> None:
        window = self._window
        dialog = ExportDialog(window.model.problem, window.model.x, self._folder(), window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        choice = dialog.choice()
        try:
            self.export(choice)
        except ExportError as error:
            QMessageBox.warning(window, "Export failed", str(error))
            return
        if window.settings is not None:
            window.settings.save_export_folder(choice.path.parent)
        window.model.say(f"Saved {choice.path}")

    def copy_screenshot(self) -> None:
        clipboard = QApplication.clipboard()
        if clipboard is not None:
            clipboard.setImage(window_image(self._window))
            self._window.model.say("Screenshot copied to the clipboard")
