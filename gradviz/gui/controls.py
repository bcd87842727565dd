"""The problem editor: one field per :class:`Problem` field, a log slider for the
jitter, the kernel (showing only the parameters it has), the solver, the quantity
(showing only the quantities the kernel has, with one line saying what it is), presets
and Apply. A kernel change that leaves the chosen quantity without its parameter falls
back to the mean's slope and says so, naming the field.

With data from a file, n and domain show the data's and seed and mean do not apply; changing
one of them goes back to the generated grid (and its sample).

Invalid values are flagged, never applied: applying validates every field
against the last valid problem (so all bad fields are flagged at once, each with
Problem's own message naming the field and its allowed range), emits nothing
and keeps the last valid problem. Model-to-view writes happen inside a
QSignalBlocker, so filling the form never echoes back as an edit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtGui import QFontDatabase, QStandardItemModel
from PyQt6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from gradviz.core.io.presets import Preset, load_presets
from gradviz.core.problem.data import check_fits_memory
from gradviz.core.problem.kernels import (
    KERNEL_CLASSES,
    KERNELS,
    OPTIONAL_DEFAULTS,
    KernelName,
    parameters_of,
)
from gradviz.core.problem.quantity import QUANTITY, QuantityName, quantities_of
from gradviz.core.problem.spec import (
    COORDINATE_LIMIT,
    GRID_FIELDS,
    N_RANGE,
    PARAMETER_RANGE,
    SEED_RANGE,
    SOLVER_HELP,
    SOLVERS,
    Problem,
    ProblemError,
    check_coordinate,
    parse_number,
)
from gradviz.gui import style

FIELDS: tuple[str, ...] = (
    *("n", "domain_lo", "domain_hi", "length_scale", "signal_variance", "alpha", "period"),
    *("seed", "mean", "jitter"),
)
# Line edits that describe the generated grid: changing one leaves data from a file.
GRID_EDITS = ("n", "domain_lo", "domain_hi", "seed", "mean")
OPTIONAL = tuple(OPTIONAL_DEFAULTS)  # alpha, period: shown only for the kernels that have them
_RANGE = f"{PARAMETER_RANGE[0]:g}..{PARAMETER_RANGE[1]:g}"
CUSTOM = "Custom"
QUANTITY_TIP = (
    "What is differentiated: the slope of the posterior mean or variance in x, or the log "
    "marginal likelihood's gradient in one of the kernel's parameters or the jitter (its "
    "probe then moves along that parameter, on a log axis); hover an entry for its formula"
)

PENDING_TEXT = (
    "Edited, not applied yet: press Enter or Apply (the results show the last applied problem)"
)
# Jitter slider: position 0 is no jitter; positions 1..JITTER_POSITIONS run log-uniformly
# from 1e-14 to 1 with JITTER_STEPS_PER_DECADE steps per decade.
JITTER_MIN_EXPONENT = -14
JITTER_MAX_EXPONENT = 0
JITTER_STEPS_PER_DECADE = 10
JITTER_POSITIONS = (JITTER_MAX_EXPONENT - JITTER_MIN_EXPONENT) * JITTER_STEPS_PER_DECADE + 1

_HINTS: dict[str, tuple[str, str]] = {  # field -> (placeholder, tooltip)
    "n": (
        f"{N_RANGE[0]}..{N_RANGE[1]}",
        f"Grid points n: an integer from {N_RANGE[0]} to {N_RANGE[1]}",
    ),
    "domain_lo": (
        "lo",
        f"Grid start lo: a finite number, |lo| <= {COORDINATE_LIMIT:g}, lo < hi",
    ),
    "domain_hi": (
        "hi",
        f"Grid end hi: a finite number, |hi| <= {COORDINATE_LIMIT:g}, hi > lo",
    ),
    "length_scale": (_RANGE, f"Kernel length scale L: from {_RANGE.replace('..', ' to ')}"),
    "signal_variance": (
        _RANGE,
        f"Kernel signal variance S (k(x, x) = S): from {_RANGE.replace('..', ' to ')}",
    ),
    "alpha": (_RANGE, f"Rational-quadratic alpha A: from {_RANGE.replace('..', ' to ')}"),
    "period": (_RANGE, f"Periodic kernel's period P: from {_RANGE.replace('..', ' to ')}"),
    "seed": (
        f"{SEED_RANGE[0]}..{SEED_RANGE[1]}",
        f"numpy seed of the data y: an integer from {SEED_RANGE[0]} to {SEED_RANGE[1]}",
    ),
    "mean": ("finite", "Prior mean of the data y: any finite number"),
    "jitter": (
        ">= 0",
        "Jitter added to the diagonal of K: a finite number >= 0 (0 = none, as the seed)",
    ),
}


def format_number(value: float) -> str:
    """Shortest text that reads back as the same number: ``-5``, ``1.5``, ``1e-6``."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    mantissa, _, exponent = repr(value).partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def position_to_jitter(position: int) -> float:
    """The jitter at a slider position, rounded to 3 significant digits (0 at position 0)."""
    if position <= 0:
        return 0.0
    exponent = JITTER_MIN_EXPONENT + (position - 1) / JITTER_STEPS_PER_DECADE
    return float(f"{10.0**exponent:.3g}")


def jitter_to_position(jitter: float) -> int:
    """The slider position nearest to ``jitter`` on the log scale (0 for no jitter)."""
    if not jitter > 0:
        return 0
    if math.isinf(jitter):
        return JITTER_POSITIONS
    steps = round((math.log10(jitter) - JITTER_MIN_EXPONENT) * JITTER_STEPS_PER_DECADE)
    return min(max(steps + 1, 1), JITTER_POSITIONS)


def field_texts(problem: Problem) -> dict[str, str]:
    """What each line edit shows for ``problem`` (keys as in FIELDS; "" for a parameter
    the kernel does not have)."""
    lo, hi = problem.domain
    values: dict[str, float | None] = {
        "n": problem.n,
        "domain_lo": lo,
        "domain_hi": hi,
        "length_scale": problem.length_scale,
        "signal_variance": problem.signal_variance,
        "alpha": problem.alpha,
        "period": problem.period,
        "seed": problem.seed,
        "mean": problem.mean,
        "jitter": problem.jitter,
    }
    return {name: _text(values[name]) for name in FIELDS}


def _text(value: float | None) -> str:
    return "" if value is None else format_number(value)


def _error_label() -> QLabel:
    """Where the flagged fields' messages are listed (hidden while there are none)."""
    label = QLabel()
    label.setObjectName("error")
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {style.ERROR_COLOR};")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


class ProblemEditor(QWidget):
    """Edit every field of a :class:`Problem`; emits ``problem_applied`` with a valid one."""

    problem_applied = pyqtSignal(Problem)  # a valid one

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._problem = Problem()
        self._errors: dict[str, str] = {}  # line-edit name -> message
        self._presets: tuple[Preset, ...] = load_presets()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        self._edits: dict[str, QLineEdit] = {}
        for name in FIELDS:
            edit = QLineEdit()
            edit.setObjectName(name)
            edit.setFont(mono)
            placeholder, tip = _HINTS[name]
            edit.setPlaceholderText(placeholder)
            edit.setToolTip(tip)
            edit.returnPressed.connect(self.apply)
            edit.textEdited.connect(self._on_text_edited)
            self._edits[name] = edit
        self._edits["jitter"].textEdited.connect(self._on_jitter_text_changed)

        self._slider = QSlider(Qt.Orientation.Horizontal)
        self._slider.setObjectName("jitter_slider")
        self._slider.setRange(0, JITTER_POSITIONS)
        self._slider.setPageStep(JITTER_STEPS_PER_DECADE)
        self._slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self._slider.setTickInterval(2 * JITTER_STEPS_PER_DECADE)
        self._slider.setToolTip(
            "Jitter on a log scale: far left 0, then 1e-14 to 1, "
            f"{JITTER_STEPS_PER_DECADE} steps per decade"
        )
        self._slider.valueChanged.connect(self._on_jitter_slider_changed)
        self._slider.sliderReleased.connect(self.apply)

        self._solver = self._build_solver_box()
        self._kernel = self._build_kernel_box()
        self._quantity, self._quantity_help, self._quantity_note = self._build_quantity_box()
        self._note_for: Problem | None = None  # the problem the fallback note speaks of
        self._preset_box = self._build_preset_box()
        self._form = QFormLayout()
        self._source = QLabel()
        self._source.setObjectName("source")
        self._source.setWordWrap(True)

        self._error_label = _error_label()

        self._pending_label = QLabel(PENDING_TEXT)
        self._pending_label.setObjectName("pending")
        self._pending_label.setWordWrap(True)
        self._pending_label.hide()

        self._apply_button = QPushButton("Apply")
        self._apply_button.setObjectName("apply")
        self._apply_button.setToolTip("Validate and apply (Enter in any field does the same)")
        self._apply_button.setAutoDefault(False)
        self._apply_button.clicked.connect(self.apply)

        self.setStyleSheet(
            f'QLineEdit[pending="true"] {{ border: 1px dashed {style.PENDING_COLOR}; '
            "border-radius: 2px; padding: 1px; }"
            f'QLineEdit[invalid="true"], QComboBox[invalid="true"] {{ border: 1px solid '
            f"{style.ERROR_COLOR}; border-radius: 2px; padding: 1px; }}"
        )
        self._build_layout()
        self.set_problem(self._problem)

    def _build_solver_box(self) -> QComboBox:
        box = QComboBox()
        box.setObjectName("solver")
        for solver in SOLVERS:
            box.addItem(solver, solver)
            box.setItemData(box.count() - 1, SOLVER_HELP[solver], Qt.ItemDataRole.ToolTipRole)
        box.setToolTip("How K + jitter I is solved; hover an entry for details")
        box.currentIndexChanged.connect(self._on_solver_changed)
        return box

    def _build_kernel_box(self) -> QComboBox:
        box = QComboBox()
        box.setObjectName("kernel")
        for name in KERNELS:
            box.addItem(name, name)
            box.setItemData(
                box.count() - 1, KERNEL_CLASSES[name].label, Qt.ItemDataRole.ToolTipRole
            )
        box.setToolTip("Covariance function k(a, b), r = |a - b|; hover an entry for its formula")
        box.currentIndexChanged.connect(self._on_kernel_changed)
        return box

    def _build_quantity_box(self) -> tuple[QComboBox, QLabel, QLabel]:
        """The box, the line saying what its quantity is, and the note saying why it
        fell back after a kernel change (shown until the next change)."""
        box = QComboBox()
        box.setObjectName("quantity")
        box.setToolTip(QUANTITY_TIP)
        box.currentIndexChanged.connect(self._on_quantity_changed)
        labels = []
        for name in ("quantity_help", "quantity_note"):
            label = QLabel()
            label.setObjectName(name)
            label.setWordWrap(True)
            labels.append(label)
        labels[1].hide()
        return box, labels[0], labels[1]

    def _build_preset_box(self) -> QComboBox:
        box = QComboBox()
        box.setObjectName("presets")
        for preset in self._presets:
            box.addItem(preset.name, preset.problem)
            box.setItemData(box.count() - 1, preset.problem.summary(), Qt.ItemDataRole.ToolTipRole)
        box.addItem(CUSTOM, None)
        model = box.model()
        if isinstance(model, QStandardItemModel):  # "Custom" is shown, never chosen
            custom = model.item(box.count() - 1)
            if custom is not None:
                custom.setEnabled(False)
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(18)  # long names elide; the popup shows them whole
        box.setToolTip("Problems worth comparing; choosing one applies it")
        box.currentIndexChanged.connect(self._on_preset_changed)
        return box

    def _build_layout(self) -> None:
        form = self._form
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.addRow("Preset", self._preset_box)
        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setFrameShadow(QFrame.Shadow.Sunken)
        form.addRow(rule)
        form.addRow(self._source)
        form.addRow("Grid points n", self._edits["n"])
        domain = QHBoxLayout()
        domain.addWidget(self._edits["domain_lo"])
        domain.addWidget(QLabel("to"))
        domain.addWidget(self._edits["domain_hi"])
        form.addRow("Domain", domain)
        form.addRow("Kernel", self._kernel)
        form.addRow("Length scale L", self._edits["length_scale"])
        form.addRow("Signal variance S", self._edits["signal_variance"])
        form.addRow("Alpha A", self._edits["alpha"])
        form.addRow("Period P", self._edits["period"])
        form.addRow("Seed", self._edits["seed"])
        form.addRow("Prior mean", self._edits["mean"])
        jitter = QHBoxLayout()
        self._edits["jitter"].setMaximumWidth(
            self._edits["jitter"].fontMetrics().horizontalAdvance("0" * 11)
        )
        jitter.addWidget(self._edits["jitter"])
        jitter.addWidget(self._slider, 1)
        form.addRow("Jitter", jitter)
        form.addRow("Solver", self._solver)
        form.addRow("Quantity", self._quantity)
        form.addRow(self._quantity_help)
        form.addRow(self._quantity_note)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self._apply_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self._error_label)
        layout.addWidget(self._pending_label)
        layout.addLayout(buttons)
        layout.addStretch(1)

    # --- public API ------------------------------------------------------------------

    def set_problem(self, problem: Problem) -> None:
        """Show ``problem`` (the new last valid one), clear flags; emits nothing. A fallback
        note stays only for the problem it was written for (Undo takes it away)."""
        if problem != self._note_for:
            self._quantity_note.hide()
        self._problem = problem
        self._fill(problem)
        self._set_errors({})
        self._show_pending()

    def problem(self) -> Problem:
        """The last valid problem, applied or set."""
        return self._problem

    def field_error(self, field: str) -> str | None:
        """The message flagged on a Problem field ("n", "domain", ...), None if clean."""
        if field == "domain":
            return self._errors.get("domain_lo") or self._errors.get("domain_hi")
        return self._errors.get(field)

    def line_edit(self, field: str) -> QLineEdit:
        """The line edit of ``field`` ("n", "domain_lo", "domain_hi", ...)."""
        return self._edits[field]

    def apply(self) -> bool:
        """Validate the form on top of the last valid problem (its data stays); emit
        ``problem_applied`` and return True if it is valid, otherwise flag every invalid
        field and keep the last valid problem."""
        return self._apply_on(self._problem)

    def _apply_on(self, base: Problem) -> bool:
        """:meth:`apply` with the form's fields on top of ``base``."""
        values = {name: parse_number(edit.text()) for name, edit in self._edits.items()}
        kernel = self._kernel.currentData()
        changes: dict[str, object] = {
            "n": values["n"],
            "domain": (values["domain_lo"], values["domain_hi"]),
            "length_scale": values["length_scale"],
            "signal_variance": values["signal_variance"],
            "seed": values["seed"],
            "mean": values["mean"],
            "jitter": values["jitter"],
            "solver": self._solver.currentData(),
            "quantity": self._quantity.currentData(),
        }
        for name in OPTIONAL:  # only the kernel's own; the others are left unset
            changes[name] = values[name] if name in parameters_of(kernel) else None
        if base.from_file:
            applied = field_texts(base)
            if any(self._edits[name].text() != applied[name] for name in GRID_EDITS):
                base = base.replace(points=None, y=None)  # a grid field typed: the grid again
            else:  # n, domain, seed and mean come from the data
                changes = {k: v for k, v in changes.items() if k not in GRID_FIELDS}
        errors: dict[str, str] = {}
        for field, value in changes.items():
            try:
                base.replace(**{"kernel": kernel, "quantity": changes["quantity"], field: value})
            except ProblemError as error:
                errors.update(self._flags_for(error, values))
        problem = None
        if not errors:
            try:
                # On top of the last valid problem: its data (or pinned sample) stays
                # unless a field the sample depends on changed.
                problem = base.replace(kernel=kernel, **changes)
                check_fits_memory(problem)
            except ProblemError as error:
                problem = None
                errors.update(self._flags_for(error, values))
        self._set_errors(errors)
        if problem is None:
            self._show_pending()
            return False
        self._problem = problem
        self._note_for = problem if not self._quantity_note.isHidden() else None
        self._fill(problem)
        self._show_pending()
        self.problem_applied.emit(problem)
        return True

    # --- handlers --------------------------------------------------------------------

    def is_pending(self) -> bool:
        """Some field shows a value that is not the applied problem's (typed, or the jitter
        slider held down): the plots and the panel still show the applied one."""
        return bool(self._pending_fields())

    def _pending_fields(self) -> list[str]:
        applied = field_texts(self._problem)
        edited = [name for name, edit in self._edits.items() if edit.text() != applied[name]]
        if self._slider.isSliderDown() and "jitter" not in edited:
            edited.append("jitter")
        return edited

    def _show_pending(self) -> None:
        edited = self._pending_fields()
        for name, edit in self._edits.items():
            if bool(edit.property("pending")) != (name in edited):
                edit.setProperty("pending", name in edited)
                style.repolish(edit)
        self._pending_label.setVisible(bool(edited))

    def _on_text_edited(self, _text: str) -> None:
        self._show_pending()

    def _on_jitter_slider_changed(self, position: int) -> None:
        edit = self._edits["jitter"]
        with QSignalBlocker(edit):
            edit.setText(format_number(position_to_jitter(position)))
        if not self._slider.isSliderDown():
            self.apply()
        else:
            self._show_pending()

    def _on_jitter_text_changed(self, text: str) -> None:
        value = parse_number(text)
        if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0:
            with QSignalBlocker(self._slider):
                self._slider.setValue(jitter_to_position(float(value)))

    def _on_solver_changed(self, _index: int) -> None:
        self.apply()

    def _on_quantity_changed(self, _index: int) -> None:
        self._quantity_note.hide()
        self._show_quantity_help()
        self.apply()

    def _on_kernel_changed(self, _index: int) -> None:
        """Show the new kernel's parameters (its defaults where none is typed), then apply."""
        kernel = self._kernel.currentData()
        for name in OPTIONAL:
            edit = self._edits[name]
            if name in parameters_of(kernel) and not edit.text():
                with QSignalBlocker(edit):
                    edit.setText(format_number(OPTIONAL_DEFAULTS[name]))
        self._show_rows(kernel)
        self._fall_back(kernel)
        self.apply()

    def _on_preset_changed(self, index: int) -> None:
        problem = self._preset_box.itemData(index)
        if isinstance(problem, Problem):
            self._fill(problem)
            self._apply_on(problem)  # the preset's own data, if it has any

    # --- helpers ---------------------------------------------------------------------

    def _flags_for(self, error: ProblemError, values: Mapping[str, object]) -> dict[str, str]:
        """Line edits to flag for ``error``: for the domain, the end that is out of range,
        or both when each end is fine but lo >= hi."""
        message = str(error)
        if error.field in ("solver", "kernel", "quantity"):
            return {error.field: message}
        if error.field in ("points", "y"):  # the data's, not an edit's: shown all the same
            return {"n": message}
        if error.field != "domain":
            return {error.field: message}
        flagged = {}
        for name in ("domain_lo", "domain_hi"):
            try:
                check_coordinate("domain", values[name])
            except ProblemError:
                flagged[name] = message
        return flagged or {"domain_lo": message, "domain_hi": message}

    def _fill(self, problem: Problem) -> None:
        for name, text in field_texts(problem).items():
            edit = self._edits[name]
            with QSignalBlocker(edit):
                edit.setText(text)
                edit.setCursorPosition(0)
        with QSignalBlocker(self._slider):
            self._slider.setValue(jitter_to_position(problem.jitter))
        with QSignalBlocker(self._solver):
            self._solver.setCurrentIndex(SOLVERS.index(problem.solver))
        with QSignalBlocker(self._kernel):
            self._kernel.setCurrentIndex(KERNELS.index(problem.kernel))
        self._fill_quantities(problem.kernel, problem.quantity)
        self._show_rows(problem.kernel)
        self._source.setText(
            f"Data from a file: {problem.n} points, x from {problem.domain[0]:g} to "
            f"{problem.domain[1]:g} (File > Open data…). n, domain, seed and mean describe "
            "the generated grid: change one to go back to it."
            if problem.from_file
            else ""
        )
        self._source.setVisible(problem.from_file)
        matching = [i for i, preset in enumerate(self._presets) if preset.problem == problem]
        with QSignalBlocker(self._preset_box):
            self._preset_box.setCurrentIndex(
                matching[0] if matching else self._preset_box.count() - 1
            )

    def _fall_back(self, kernel: KernelName) -> None:
        """Offer the new kernel's quantities; a chosen quantity it lacks becomes the
        mean's slope, said under the box (the rest of the problem stays)."""
        chosen = self._quantity.currentData()
        self._quantity_note.hide()
        self._fill_quantities(kernel, chosen)
        if self._quantity.currentData() != chosen:
            self._quantity_note.setText(
                f"quantity: {chosen} is not one of the {kernel} kernel's quantities; "
                f"measuring {self._quantity.currentData()} instead"
            )
            self._quantity_note.show()

    def _fill_quantities(self, kernel: KernelName, chosen: object) -> None:
        """The kernel's quantities in the box, ``chosen`` selected if it has it (else
        the first, the mean's slope); emits nothing."""
        with QSignalBlocker(self._quantity):
            self._quantity.clear()
            for name in quantities_of(parameters_of(kernel)):
                self._quantity.addItem(name, name)
                self._quantity.setItemData(
                    self._quantity.count() - 1, QUANTITY[name].help, Qt.ItemDataRole.ToolTipRole
                )
            index = self._quantity.findData(chosen)
            self._quantity.setCurrentIndex(max(index, 0))
        self._show_quantity_help()

    def _show_quantity_help(self) -> None:
        name: QuantityName | None = self._quantity.currentData()
        self._quantity_help.setText("" if name is None else QUANTITY[name].help)

    def quantities(self) -> list[str]:
        """The quantities the box offers (the current kernel's)."""
        return [self._quantity.itemData(i) for i in range(self._quantity.count())]

    def quantity_note(self) -> str | None:
        """Why the quantity fell back to another after a kernel change, or None."""
        return None if self._quantity_note.isHidden() else self._quantity_note.text()

    def _show_rows(self, kernel: str) -> None:
        """Only the parameters the kernel has are shown."""
        for name in OPTIONAL:
            self._form.setRowVisible(self._edits[name], name in parameters_of(kernel))  # type: ignore[arg-type]

    def _set_errors(self, errors: dict[str, str]) -> None:
        self._errors = dict(errors)
        self._quantity.setProperty("invalid", "quantity" in errors)
        self._quantity.setToolTip(errors.get("quantity", QUANTITY_TIP))
        style.repolish(self._quantity)
        for name, edit in self._edits.items():
            message = errors.get(name)
            edit.setProperty("invalid", message is not None)
            edit.setToolTip(message if message is not None else _HINTS[name][1])
            style.repolish(edit)
        messages = list(dict.fromkeys(errors.values()))
        self._error_label.setText("\n".join(messages))
        self._error_label.setVisible(bool(messages))
