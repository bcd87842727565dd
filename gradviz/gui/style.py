"""Colours and text styles shared by the plots and the panel.

One colour per dtype and one for the reference, the same everywhere, chosen
from the Okabe-Ito colour-blind-safe set at mid luminance so that each reads
on a light and on a dark palette.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent
from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication, QWidget

DTYPE_COLORS: dict[str, str] = {"float32": "#E69F00", "float64": "#3A8DDE"}
REFERENCE_COLOR = "#009E73"
DATA_COLOR = "#8C8C8C"
ERROR_COLOR = "#D55E00"
PENDING_COLOR = "#E69F00"


def plot_colors() -> tuple[QColor, QColor]:
    """Background and foreground of the application palette: every plot follows the theme."""
    palette = QApplication.palette()
    return palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)


class PaletteFollower(QWidget):
    """A widget that colours by hand what a palette does not reach (pyqtgraph's plots):
    :meth:`apply_palette` runs again whenever the palette changes (a theme switch)."""

    def changeEvent(self, event: QEvent | None) -> None:
        super().changeEvent(event)
        if event is not None and event.type() == QEvent.Type.PaletteChange:
            self.apply_palette()

    def apply_palette(self) -> None:
        """Colour the widget's plots from the application palette."""


def repolish(widget: QWidget) -> None:
    """Apply the style sheet again after a dynamic property (``invalid``, ``pending``) of
    ``widget`` changed: Qt re-reads properties only when a widget is polished."""
    style = widget.style()
    if style is not None:
        style.unpolish(widget)
        style.polish(widget)


def muted_text() -> str:
    """Opaque colour for de-emphasised text (wrong digits, units) on the current palette.

    Blended from the text and window colours: Qt's PlaceholderText is often the
    text colour at half alpha, which ``QColor.name()`` turns back into the text colour.
    """
    palette = QApplication.palette()
    text = palette.color(QPalette.ColorRole.WindowText)
    window = palette.color(QPalette.ColorRole.Window)
    mixed = [
        round(0.45 * t + 0.55 * w)
        for t, w in zip(text.getRgb()[:3], window.getRgb()[:3], strict=True)
    ]
    return QColor(*mixed).name()


THEMES = ("system", "light", "dark")
# A dark palette in the spirit of Qt's Fusion dark examples; plots follow the palette.
_DARK = {
    QPalette.ColorRole.Window: "#202124",
    QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#17181a",
    QPalette.ColorRole.AlternateBase: "#26282b",
    QPalette.ColorRole.Text: "#e8eaed",
    QPalette.ColorRole.Button: "#2b2d31",
    QPalette.ColorRole.ButtonText: "#e8eaed",
    QPalette.ColorRole.ToolTipBase: "#2b2d31",
    QPalette.ColorRole.ToolTipText: "#e8eaed",
    QPalette.ColorRole.PlaceholderText: "#9aa0a6",
    QPalette.ColorRole.Highlight: "#3a8dde",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#8ab4f8",
}


def apply_theme(theme: str) -> None:
    """Set the application palette: the style's own ("system"), light, or dark. Every
    widget, the plots included, repaints from the palette."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    style = app.style()
    palette = QPalette() if style is None else style.standardPalette()
    if theme == "dark":
        for role, color in _DARK.items():
            palette.setColor(role, QColor(color))
    elif theme == "light":
        palette = QPalette(QColor("#efefef"), QColor("#ffffff"))
    app.setPalette(palette)
    # Widgets with a style sheet keep the palette they were polished with: polish again.
    for widget in app.allWidgets():
        sheet = widget.styleSheet()
        if sheet:
            widget.setStyleSheet(sheet)
