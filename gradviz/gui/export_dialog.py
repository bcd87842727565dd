"""File > Export screenshot...: what to export, its width and where."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from gradviz.core.problem.spec import Problem

# (label, what, extension)
CHOICES: tuple[tuple[str, str, str], ...] = (
    ("Whole window (PNG)", "window", ".png"),
    ("Plots only (PNG)", "plots", ".png"),
    ("Plots only (SVG, vector)", "plots", ".svg"),
    ("Plots only (PDF, vector)", "plots", ".pdf"),
)
MAX_WIDTH = 20000


def default_name(problem: Problem, x: float, extension: str) -> str:
    """A file name that says what is in it, e.g. ``gradviz_n300_l1.5_jitter0_inverse_x2.png``."""
    lo, hi = problem.domain
    parts = [f"n{problem.n}", f"l{problem.length_scale:g}", f"jitter{problem.jitter:g}"]
    if (lo, hi) != (-5.0, 5.0):
        parts.append(f"domain{lo:g}_{hi:g}")
    parts += [problem.solver, f"x{x:g}"]
    stem = re.sub(r"[^A-Za-z0-9_.+-]", "", "_".join(["gradviz", *parts]))
    return stem + extension


@dataclass(frozen=True)
class ExportChoice:
    what: str  # "window" or "plots"
    path: Path
    width: int | None


class ExportDialog(QDialog):
    """Collects an :class:`ExportChoice`; asks before overwriting an existing file."""

    def __init__(self, problem: Problem, x: float, folder: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export screenshot")
        self._problem, self._x = problem, x
        self._kind = QComboBox()
        for label, _, _ in CHOICES:
            self._kind.addItem(label)
        self._width = QSpinBox()
        self._width.setRange(0, MAX_WIDTH)
        self._width.setSpecialValueText("as on screen")
        self._width.setSuffix(" px")
        self._path = QLineEdit(str(folder / default_name(problem, x, ".png")))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self._path, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Export", self._kind)
        form.addRow("Width", self._width)
        form.addRow("File", row)
        form.addRow(buttons)
        self._kind.currentIndexChanged.connect(self._on_kind_changed)
        self.resize(560, self.sizeHint().height())

    def _extension(self) -> str:
        return CHOICES[self._kind.currentIndex()][2]

    def _on_kind_changed(self, _index: int) -> None:
        self._path.setText(str(Path(self._path.text()).with_suffix(self._extension())))

    def _on_browse_clicked(self) -> None:
        extension = self._extension()
        chosen, _ = QFileDialog.getSaveFileName(
            self,
            "Export screenshot",
            self._path.text(),
            f"{extension[1:].upper()} (*{extension})",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if chosen:
            self._path.setText(str(Path(chosen).with_suffix(extension)))

    def choice(self) -> ExportChoice:
        width = self._width.value()
        what = CHOICES[self._kind.currentIndex()][1]
        path = Path(self._path.text()).expanduser().with_suffix(self._extension())
        return ExportChoice(what=what, path=path, width=width or None)

    def accept(self) -> None:
        path = self.choice().path
        if path.exists():
            answer = QMessageBox.question(
                self,
                "Overwrite?",
                f"{path} exists. Replace it?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        super().accept()
