"""A label whose rich text changes without a new layout of its window.

``QLabel.setText`` asks the layout above it for a new geometry whenever the text changes.
In the side column that layout holds wrapped paragraphs, whose heights Qt computes again
each time: a new title on every drag step cost 3.7 ms of a 16.7 ms frame (measured). A
:class:`FixedText` keeps one size (a fixed number of lines at any width) and only repaints.
"""

from __future__ import annotations

from PyQt6.QtGui import QPainter, QPaintEvent, QTextDocument
from PyQt6.QtWidgets import QLabel, QSizePolicy, QWidget

MARGIN = 2


class FixedText(QLabel):
    """Rich text in ``lines`` lines of the widget's font, wrapped at its width; what does
    not fit is cut. A QLabel to readers (``text()``, styles), painted here."""

    def __init__(self, lines: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._html = ""
        self._document = QTextDocument(self)
        self._document.setDocumentMargin(0)
        self._lines = lines
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fit_height()

    def _fit_height(self) -> None:
        self.setFixedHeight(self._lines * self.fontMetrics().lineSpacing() + 2 * MARGIN)

    def setText(self, text: str | None) -> None:
        text = text or ""
        if text != self._html:
            self._html = text
            self._document.setHtml(text)
            self.update()

    def text(self) -> str:
        return self._html

    def paintEvent(self, event: QPaintEvent | None) -> None:
        self._document.setDefaultFont(self.font())
        self._document.setTextWidth(max(1, self.width()))
        painter = QPainter(self)
        painter.translate(0, MARGIN)
        self._document.drawContents(painter)
        painter.end()
