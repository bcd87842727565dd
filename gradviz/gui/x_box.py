"""The x box: type an exact probe position.

A ``QDoubleSpinBox`` reads ``1e-3`` as 13 and rounds ``2.0000009`` to its decimals, so the
box is a line edit that reads what people type the way the rest of gradviz reads numbers
(``parse_number``: ASCII digits, a sign, one decimal point, an exponent), keeps every digit
(the probe goes exactly there), and accepts the locale's decimal separator as well as ".".
Text that is not an allowed x is refused with the reason on the field; the probe stays.
Up and Down step one grid point. For an LML quantity the box edits theta, the probe's
position on its log axis (a positive number within the parameter's range).
"""

from __future__ import annotations

from PyQt6.QtCore import QLocale, Qt, pyqtSignal
from PyQt6.QtGui import QKeyEvent
from PyQt6.QtWidgets import QLineEdit, QWidget

from gradviz.core.problem.spec import Problem, ProblemError, check_probe, parse_number
from gradviz.gui import style
from gradviz.gui.probe_axis import ProbeAxis

TOOLTIP = (
    "Probe an exact x: type it (e.g. 2.5, -1e-3, 2.0000009) and press Enter; "
    "Up/Down step one grid point"
)
THETA_TOOLTIP = (
    "Probe an exact {name}: type it (e.g. 1.5, 2e-3) and press Enter; the plots show "
    "{lo:g} to {hi:g}; Up/Down step 1/50 of a decade"
)


def read_x(text: str, locale: QLocale, problem: Problem | None = None) -> float:
    """The probe typed in ``text`` on ``problem``'s axis (x by default): ``"x = "`` (or
    the axis's symbol, ``"l = "``) may lead, and the locale's decimal separator stands
    for ".". Raises ProblemError naming the field, the text and what is allowed."""
    problem = problem or Problem()
    typed = text.strip()
    lead = typed.lower().replace(" ", "")
    if any(lead.startswith(f"{s.lower()}=") for s in ("x", problem.measured.axis)):
        typed = typed.split("=", 1)[1].strip()
    point = locale.decimalPoint()
    if point != "." and point in typed:
        if "." in typed:  # two different decimal separators: not one number
            raise ProblemError("x", text.strip(), "one number with one decimal separator")
        typed = typed.replace(point, ".")
    return check_probe(problem, parse_number(typed))


def shown_x(x: float, locale: QLocale) -> str:
    """Every digit of ``x`` (Python's shortest round-trip text), with the locale's
    decimal separator."""
    text = repr(float(x))
    point = locale.decimalPoint()
    return text.replace(".", point) if point != "." else text


class XBox(QLineEdit):
    """Emits ``x_requested`` with the exact x typed (Enter), or shows why the text is not
    one; ``nudge_requested`` with +1 or -1 for Up and Down."""

    x_requested = pyqtSignal(float)
    nudge_requested = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("x_box")
        self.setToolTip(TOOLTIP)
        self._problem = Problem()
        self._tooltip = TOOLTIP
        self._error: str | None = None
        self.returnPressed.connect(self._on_return_pressed)
        self.textEdited.connect(self._on_text_edited)
        self.setStyleSheet(
            f'QLineEdit[invalid="true"] {{ border: 1px solid {style.ERROR_COLOR}; '
            "border-radius: 2px; padding: 1px; }"
        )

    def show_x(self, x: float) -> None:
        """Show ``x`` unless the user is typing another one (it would be lost)."""
        if self.hasFocus() and self.isModified():
            return
        self.setText(shown_x(x, self.locale()))
        self.setModified(False)
        self.setCursorPosition(0)
        self._set_error(None)

    def set_problem(self, problem: Problem) -> None:
        """Read what is typed on ``problem``'s axis (x, or an LML quantity's theta)."""
        self._problem = problem
        axis = ProbeAxis.of(problem)
        lo, hi = axis.domain
        self._tooltip = THETA_TOOLTIP.format(name=axis.name, lo=lo, hi=hi) if axis.log else TOOLTIP
        self.setToolTip(self._tooltip if self._error is None else self._error)

    def error(self) -> str | None:
        """Why the text typed is not an x, or None."""
        return self._error

    def keyPressEvent(self, event: QKeyEvent | None) -> None:
        if event is not None and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.setModified(False)
            self.nudge_requested.emit(1 if event.key() == Qt.Key.Key_Up else -1)
            return
        super().keyPressEvent(event)

    def _on_return_pressed(self) -> None:
        try:
            x = read_x(self.text(), self.locale(), self._problem)
        except ProblemError as error:
            self._set_error(str(error))
            return
        self._set_error(None)
        self.setModified(False)
        self.x_requested.emit(x)

    def _on_text_edited(self, _text: str) -> None:
        self._set_error(None)

    def _set_error(self, message: str | None) -> None:
        if message == self._error:
            return
        self._error = message
        self.setProperty("invalid", message is not None)
        self.setToolTip(self._tooltip if message is None else message)
        style.repolish(self)
