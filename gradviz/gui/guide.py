"""Help > Guide: the illustrated guide and glossary that ship in ``resources/guide.html``.

The paths' and the quantities' descriptions are not written twice: the guide's
``<!-- paths -->`` and ``<!-- quantities -->`` markers are replaced by the registries' help
texts, so the guide, the tooltips and the CLI say the same thing. Tooltips elsewhere
point here by anchor (``#cond``, ...).
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from gradviz.core.numerics.results import PATH_SPECS
from gradviz.core.problem.quantity import QUANTITY
from gradviz.resources import resource_path

GUIDE_FILE = "guide.html"
PATHS_MARKER = "<!-- paths -->"
QUANTITIES_MARKER = "<!-- quantities -->"


def guide_html() -> str:
    """The guide's HTML with the paths' and the quantities' descriptions filled in."""
    text = resource_path(GUIDE_FILE).read_text(encoding="utf-8")
    paths = _terms((spec.label, spec.help) for spec in PATH_SPECS)
    quantities = _terms((q.name, q.help) for q in QUANTITY.values())
    return text.replace(PATHS_MARKER, paths).replace(QUANTITIES_MARKER, quantities)


def _terms(entries: Iterable[tuple[str, str]]) -> str:
    """A definition list of (code name, one line)."""
    rows = "".join(
        f"<dt><code>{html.escape(name)}</code></dt><dd>{html.escape(text)}</dd>"
        for name, text in entries
    )
    return f"<dl>{rows}</dl>"


class GuideDialog(QDialog):
    """A non-modal window showing the guide; :meth:`show_topic` jumps to an anchor."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("gradviz guide")
        self.setObjectName("guide")
        self.browser = QTextBrowser()
        self.browser.setObjectName("guide_text")
        self.browser.setOpenExternalLinks(True)
        self.browser.setSearchPaths([str(resource_path(GUIDE_FILE).parent)])
        self.browser.setHtml(guide_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(760, 640)

    def show_topic(self, anchor: str = "") -> None:
        """Show the guide at ``anchor`` (a glossary term such as ``cond``), or at the top."""
        self.show()
        if anchor:
            self.browser.scrollToAnchor(anchor)
        else:
            scroll_bar = self.browser.verticalScrollBar()
            if scroll_bar is not None:
                scroll_bar.setValue(0)
        self.raise_()
        self.activateWindow()
