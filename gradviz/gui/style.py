"""Colours and text styles shared by the plots and the panel.

One colour per dtype and one for the reference, the same everywhere, chosen
from the Okabe-Ito colour-blind-safe set at mid luminance so that each reads
on a light and on a dark palette.
"""

from __future__ import annotations

from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication

DTYPE_COLORS: dict[str, str] = {"float32": "#E69F00", "float64": "#3A8DDE"}
REFERENCE_COLOR = "#009E73"
DATA_COLOR = "#8C8C8C"
ERROR_COLOR = "#D55E00"


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
