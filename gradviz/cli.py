"""Command line: ``gradviz [gui|report|screenshot|curves|sweep|script] [problem options]``.

Arguments are parsed and validated before anything heavy is imported, so a
typo costs milliseconds and ``gradviz --help`` never loads TensorFlow or Qt.
Bad input exits with status 2 and one line on stderr naming the field, the
value and the allowed range: every value goes through one check (a string of
sane length, numbers in ASCII digits) before the field's own validation, and no
option may be abbreviated. Every command turns SIGINT and SIGTERM into exceptions,
so temporaries are removed on the way out, and exits with one line and status
130 / 143. ``report``, ``curves`` and ``sweep`` compute in a child process and only
wait for it here, so a signal stops them at once in any phase (ball arithmetic
included), and their output exists exactly when they exit 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from gradviz import __version__
from gradviz.core.io.data_file import DataFileError, load_data
from gradviz.core.io.files import SaveError, check_target, is_stream
from gradviz.core.io.session import Session, SessionError, load_session
from gradviz.core.numerics.results import SPREAD_MAX_N
from gradviz.core.problem.data import check_fits_memory
from gradviz.core.problem.kernels import KERNELS
from gradviz.core.problem.quantity import QUANTITIES
from gradviz.core.problem.spec import (
    GRID_FIELDS,
    SOLVERS,
    Problem,
    ProblemError,
    Solver,
    check_probe,
    parse_number,
)
from gradviz.worker.stoppable import ComputeError

EXIT_USAGE = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, as a shell reports Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
MAX_VALUE_CHARS = 10_000  # a path is at most 4096 bytes; anything longer is a mistake
FORMATS = ("table", "json")
CURVE_FORMATS = ("csv", "json")
SWEEPS = ("jitter", "step")
SWEEP_FORMATS = ("table", "json", "csv")
POINTS_RANGE = (2, 100_000)
# report's --budget covers the reference (at most one share, as the window gives it) and the
# measured advice (the rest: its coarse grid needs ~17 references, 4-5 s on the seed here).
REPORT_BUDGET_SHARES = 3
WHATS = ("window", "plots")
EXTENSIONS = {"window": (".png",), "plots": (".png", ".svg", ".pdf")}
DEFAULT_SIZE = "1600x960"
# The window's smallest useful size: the side column (~680-780 px, it grows with the values
# shown) beside the plots (400 px).
WIDTH_RANGE = (1200, 7680)
HEIGHT_RANGE = (700, 4320)


class UsageError(Exception):
    """A command-line mistake; printed as one line, exit status 2."""


class Terminated(BaseException):
    """SIGTERM arrived; raised like KeyboardInterrupt, past every ``except Exception``."""


# argparse (Python 3.11) treats "-1e-6" or "-inf" as an option name: its negative-number
# pattern has no exponent. gradviz has no option that looks like a number, so widen it.
_NEGATIVE_NUMBER = re.compile(
    r"^-([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$|^-(inf|infinity|nan)$", re.IGNORECASE
)


class _Parser(argparse.ArgumentParser):
    """argparse prints usage plus a message; gradviz prints the message alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _problem_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("problem (defaults: the Stack Overflow 51006474 seed)")
    group.add_argument("--n", metavar="N", help="grid points, 2..5000 (300)")
    group.add_argument(
        "--domain", nargs=2, metavar=("LO", "HI"), help="grid interval, lo < hi (-5 5)"
    )
    group.add_argument("--seed", metavar="S", help="numpy seed, 0..2**32-1 (100)")
    group.add_argument("--mean", metavar="M", help="prior mean of the sample (1)")
    group.add_argument(
        "--data",
        metavar="FILE",
        help="x and y from a file (CSV or text with two columns, .npy (n, 2), .npz with x "
        "and y) instead of the grid and its sample; --n, --domain, --seed, --mean do not apply",
    )
    group.add_argument("--kernel", metavar="|".join(KERNELS), help="covariance function (rbf)")
    group.add_argument("--length-scale", metavar="L", help="kernel length scale (1.5)")
    group.add_argument("--signal-variance", metavar="S", help="kernel signal variance (1)")
    group.add_argument("--alpha", metavar="A", help="rational-quadratic's alpha (1)")
    group.add_argument("--period", metavar="P", help="periodic's period (1)")
    group.add_argument("--jitter", metavar="J", help="added to K's diagonal, >= 0 (0)")
    group.add_argument("--solver", metavar="|".join(SOLVERS), help="how K is used (inverse)")
    group.add_argument(
        "--quantity",
        metavar="|".join(QUANTITIES),
        help="what is differentiated (mean-slope: d mu/dx); lml-*: the log marginal "
        "likelihood's gradient in that parameter, probed along it",
    )
    group.add_argument(
        "--x",
        metavar="X",
        help="probe position on the quantity's axis: x (2.0; with --data the middle), or "
        "theta for an lml-* quantity (the problem's own value)",
    )
    group.add_argument(
        "--session", metavar="FILE", help="start from a saved session; options given override it"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gradviz",
        description="A precision lab for TensorFlow gradients of a GP posterior mean. "
        "Without a command, opens the window on the seed scenario.",
    )
    parser.add_argument("--version", action="version", version=f"gradviz {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    gui = commands.add_parser("gui", help="open the window (the default command)")
    _problem_options(gui)
    gui.add_argument("--reset", action="store_true", help="ignore remembered settings")

    shot = commands.add_parser("screenshot", help="render the window headless to PNG or SVG")
    shot.add_argument("out", metavar="OUT.png|OUT.svg", help="file to write")
    _problem_options(shot)
    shot.add_argument("--what", default="window", metavar="|".join(WHATS), help="(window)")
    shot.add_argument("--size", metavar="WxH", help=f"window size in pixels ({DEFAULT_SIZE})")
    shot.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    shot.add_argument(
        "--no-advice",
        action="store_true",
        help="do not wait for the measured advice (what to change): ~10 s sooner",
    )

    report = commands.add_parser("report", help="print every path's gradient and a diagnosis")
    _problem_options(report)
    report.add_argument("--no-reference", action="store_true", help="skip the ball arithmetic")
    report.add_argument(
        "--budget",
        metavar="SECONDS",
        help="ball-arithmetic budget, CPU seconds (30): the reference takes at most a third "
        "of it, the measured advice the rest",
    )
    report.add_argument("--format", default="table", metavar="|".join(FORMATS))
    report.add_argument("--verbose", action="store_true", help="show TensorFlow's log")

    curves = commands.add_parser("curves", help="print the curves the window draws, as data")
    _problem_options(curves)
    curves.add_argument(
        "--points",
        metavar="N",
        help=f"x evenly over the domain (1000), {POINTS_RANGE[0]}..{POINTS_RANGE[1]}",
    )
    curves.add_argument("--no-reference", action="store_true", help="skip the ball arithmetic")
    curves.add_argument("--budget", metavar="SECONDS", help="reference budget, CPU seconds (10)")
    curves.add_argument("--format", default="csv", metavar="|".join(CURVE_FORMATS))
    curves.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    curves.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    script = commands.add_parser(
        "script", help="write a standalone numpy + TensorFlow program reproducing the problem"
    )
    _problem_options(script)
    script.add_argument(
        "--budget", metavar="SECONDS", help="ball-arithmetic time budget of the advice (30)"
    )
    script.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    script.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    sweep = commands.add_parser("sweep", help="digits against jitter, or error against step h")
    sweep.add_argument("kind", metavar="|".join(SWEEPS), help="which sweep")
    _problem_options(sweep)
    sweep.add_argument(
        "--solvers", metavar=",".join(SOLVERS), help="jitter sweep: solvers to compare (all)"
    )
    sweep.add_argument("--budget", metavar="SECONDS", help="reference budget, CPU seconds (30)")
    sweep.add_argument("--format", default="table", metavar="|".join(SWEEP_FORMATS))
    sweep.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    sweep.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    return parser


def check_values(args: argparse.Namespace) -> argparse.Namespace:
    """Every option's value is text (a list for ``--domain``) of at most MAX_VALUE_CHARS;
    argparse hands ``--n=--`` over as an empty list, which no field expects."""
    for name, value in vars(args).items():
        option = {"out": "OUT", "kind": "SWEEP"}.get(name, "--" + name.replace("_", "-"))
        if value is None or isinstance(value, bool) or name == "command":
            continue
        parts = value if isinstance(value, list) else [value]
        if not parts or not all(isinstance(part, str) for part in parts):
            raise UsageError(f"{option}: expected a value, not {value!r}")
        longest = max(len(part) for part in parts)
        if longest > MAX_VALUE_CHARS:
            raise UsageError(
                f"{option}: a value of {longest:,} characters is not allowed; "
                f"values are at most {MAX_VALUE_CHARS:,} characters"
            )
    return args


NAMES = ("domain", "solver", "kernel", "quantity")  # options whose value is not a number


def problem_changes(args: argparse.Namespace) -> dict[str, object]:
    """The problem fields given on the command line, as typed (validated by Problem), and
    with ``--data`` the file's points and y. Raises UsageError or DataFileError."""
    fields = {
        "n": args.n,
        "domain": None if args.domain is None else tuple(parse_number(v) for v in args.domain),
        "length_scale": args.length_scale,
        "seed": args.seed,
        "mean": args.mean,
        "jitter": args.jitter,
        "solver": args.solver,
        "kernel": args.kernel,
        "signal_variance": args.signal_variance,
        "alpha": args.alpha,
        "period": args.period,
        "quantity": args.quantity,
    }
    changes = {
        name: value if name in NAMES else parse_number(value)
        for name, value in fields.items()
        if value is not None
    }
    if args.data is not None:
        grid = ["--" + name for name in GRID_FIELDS if name in changes]
        if grid:
            raise UsageError(
                f"--data: {', '.join(grid)} cannot be given with it: the data file gives the "
                "points and y (n, domain, seed and mean describe the generated grid)"
            )
        changes["points"], changes["y"] = load_data(Path(args.data))
    return changes


def x_from_args(
    args: argparse.Namespace, problem: Problem, session: Session | None
) -> float | None:
    """The probe on ``problem``'s quantity's axis: ``--x``, else the session's where it
    stands on the same axis (not with ``--data``), else None."""
    if args.x is not None:
        return check_probe(problem, parse_number(args.x))
    if session is None or args.data is not None:
        return None
    return session.x if session.problem.measured.theta == problem.measured.theta else None


def starting_point(
    args: argparse.Namespace, changes: dict[str, object] | None = None
) -> tuple[Problem, float | None, Session | None]:
    """Problem and x from ``--session`` (if given) with the options (or ``changes``, as
    :func:`problem_changes` gives them) on top, checked to fit in memory; x is None when
    neither gives it (with ``--data``, the middle of the data). Raises SessionError,
    DataFileError, UsageError or ProblemError."""
    session = None if args.session is None else load_session(Path(args.session))
    changes = problem_changes(args) if changes is None else changes
    problem = (Problem() if session is None else session.problem).replace(**changes)
    x = x_from_args(args, problem, session)
    if x is None and args.data is not None:
        x = problem.default_x
    check_fits_memory(problem)
    return problem, x, session


def _positive_seconds(text: str | None, default: float) -> float:
    if text is None:
        return default
    value = parse_number(text)
    if isinstance(value, str) or not 0 < value <= 3600:
        raise ProblemError("budget", text, "a number of seconds, 0 < budget <= 3600")
    return float(value)


def _run_report(args: argparse.Namespace) -> int:
    if args.format not in FORMATS:
        raise ProblemError("format", args.format, "one of " + ", ".join(FORMATS))
    problem, x, _ = starting_point(args)
    x = problem.default_x if x is None else x
    from gradviz.core.numerics.reference import DEFAULT_BUDGET_S

    budget = _positive_seconds(args.budget, REPORT_BUDGET_SHARES * DEFAULT_BUDGET_S)
    if args.verbose:
        os.environ["GRADVIZ_VERBOSE"] = "1"
    return print_report(problem, x, None if args.no_reference else budget, args.format)


def print_report(problem: Problem, x: float, budget: float | None, form: str) -> int:
    """Compute the report in a child process (stoppable at any moment) and print it."""
    from gradviz.worker.stoppable import run_stoppable

    print(run_stoppable(report_text, problem, x, budget, form))
    return 0


def report_text(problem: Problem, x: float, budget: float | None, form: str) -> str:
    """Unless ``budget`` is None, the reference within a third of ``budget`` CPU seconds;
    then every path and, with the rest of the budget, the measured advice: the table or
    JSON. The reference comes first: it needs no TensorFlow."""
    from gradviz.core.analysis.diagnosis import conditioning, diagnose
    from gradviz.core.numerics.reference import reference_solver
    from gradviz.core.problem.data import problem_data

    data = problem_data(problem)
    reference, solver, spent = None, None, 0.0
    if budget is not None:
        start = time.process_time()  # CPU seconds, as the ball arithmetic's budget counts them
        solver = reference_solver(data, budget / REPORT_BUDGET_SHARES)
        reference = solver.evaluate(x)
        spent = time.process_time() - start
    from gradviz.core.analysis.advice import advised_jitter, measure_advice
    from gradviz.core.io.report import Report, to_json, to_table
    from gradviz.core.numerics.probe import ProbeEngine

    result = ProbeEngine().probe(data, x, spread=problem.n <= SPREAD_MAX_N)
    advice = None
    if solver is not None and reference is not None and budget is not None:
        known = {advised_jitter(problem, x): reference}
        left = max(0.0, budget - spent)
        advice = measure_advice(data, x, budget_s=left, reference_solver=solver, known=known)
    diagnosis = diagnose(result, reference, conditioning(data, x))
    report = Report(result=result, reference=reference, diagnosis=diagnosis, advice=advice)
    return to_json(report) if form == "json" else to_table(report)


def writable_target(text: str, force: bool) -> Path:
    """An output file that can be written (its folder exists and takes files, it is not a
    folder, its name fits) and may be (absent, ``force``, or a device or named pipe, which
    is written through and replaces nothing), before any work starts."""
    path = Path(text).expanduser()
    try:
        check_target(path)
    except SaveError as error:
        raise UsageError(str(error)) from None
    if path.exists() and not force and not is_stream(path):
        raise UsageError(f"{path} exists; pass --force to overwrite it")
    return path


def _points(text: str | None) -> int:
    if text is None:
        return 1000
    value = parse_number(text)
    lo, hi = POINTS_RANGE
    if isinstance(value, str) or not float(value).is_integer() or not lo <= value <= hi:
        raise ProblemError("points", text, f"an integer, {lo} <= points <= {hi}")
    return int(value)


def _run_curves(args: argparse.Namespace) -> int:
    """``gradviz curves``: every check first, then the curves, the reference over x and the
    digits, printed or written atomically."""
    if args.format not in CURVE_FORMATS:
        raise ProblemError("format", args.format, "one of " + ", ".join(CURVE_FORMATS))
    points = _points(args.points)
    output = _checked_output(args)
    problem, _, _ = starting_point(args)
    from gradviz.core.numerics.reference import DEFAULT_BUDGET_S

    budget = None if args.no_reference else _positive_seconds(args.budget, DEFAULT_BUDGET_S)
    from gradviz.worker.stoppable import run_stoppable

    return _emit(run_stoppable(curves_text, problem, points, budget, args.format), output)


def _checked_output(args: argparse.Namespace) -> Path | None:
    """``--output`` as a path that may be written (``--force`` to overwrite), or None."""
    return None if args.output is None else writable_target(args.output, args.force)


def _emit(text: str, output: Path | None) -> int:
    """Print ``text``, or write it to ``output`` atomically (through it, for a device or a
    named pipe, waiting for a reader). Once the output is complete a stop signal no longer
    turns it into a failure: the file exists exactly when the status is 0."""
    if output is None:
        sys.stdout.write(text)
        return 0
    from gradviz.core.io.files import save_text

    try:
        save_text(output, text, on_commit=_ignore_stop_signals, wait_for_reader=True)
    except SaveError as error:
        print(f"gradviz: error: {printable(str(error))}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def _run_script(args: argparse.Namespace) -> int:
    """``gradviz script``: every check first, then the measured advice, then the program,
    printed or written atomically."""
    from gradviz.core.io.script import script_unsupported

    output = _checked_output(args)
    problem, x, _ = starting_point(args)
    unsupported = script_unsupported(problem)
    if unsupported is not None:
        raise UsageError(f"script: {unsupported}")
    x = problem.default_x if x is None else x
    from gradviz.core.numerics.reference import DEFAULT_BUDGET_S

    budget = _positive_seconds(args.budget, REPORT_BUDGET_SHARES * DEFAULT_BUDGET_S)
    return _emit(script_source(problem, x, budget, None if output is None else output.name), output)


def script_source(problem: Problem, x: float, budget: float, name: str | None) -> str:
    """The standalone program for ``problem`` at x, with the advice measured within
    ``budget`` seconds of ball arithmetic (see gradviz.core.io.script)."""
    from gradviz.core.analysis.advice import measure_advice
    from gradviz.core.io.environment import environment
    from gradviz.core.io.script import script_text
    from gradviz.core.problem.data import problem_data

    data = problem_data(problem)
    advice = measure_advice(data, x, budget_s=budget)
    return script_text(problem, data.y, x, advice, environment=environment(), name=name)


def _solvers(text: str | None) -> tuple[Solver, ...]:
    """``--solvers inverse,solve``: known names, each once, in the order given."""
    if text is None:
        return SOLVERS
    names = text.split(",")
    allowed = "a comma-separated list of " + ", ".join(SOLVERS) + ", each at most once"
    if len(set(names)) != len(names) or not all(name in SOLVERS for name in names):
        raise ProblemError("solvers", text, allowed)
    return tuple(name for name in SOLVERS if name in names)


def _run_sweep(args: argparse.Namespace) -> int:
    """``gradviz sweep jitter|step``: every check first, then the sweep, printed or written
    atomically."""
    if args.kind not in SWEEPS:
        raise ProblemError("sweep", args.kind, "one of " + ", ".join(SWEEPS))
    if args.format not in SWEEP_FORMATS:
        raise ProblemError("format", args.format, "one of " + ", ".join(SWEEP_FORMATS))
    solvers = _solvers(args.solvers)
    if args.kind == "step" and args.solvers is not None:
        raise UsageError("--solvers: the step sweep uses the problem's solver (--solver)")
    output = _checked_output(args)
    problem, x, _ = starting_point(args)
    x = problem.default_x if x is None else x
    from gradviz.core.analysis.sweep import jitter_sweep_refusal
    from gradviz.core.numerics.reference import DEFAULT_BUDGET_S

    refusal = jitter_sweep_refusal(problem) if args.kind == "jitter" else None
    if refusal is not None:
        raise UsageError(f"sweep jitter: {refusal}")
    budget = _positive_seconds(args.budget, 3 * DEFAULT_BUDGET_S)
    from gradviz.worker.stoppable import run_stoppable

    text = run_stoppable(
        sweep_text, problem, x, args.kind, solvers=solvers, budget=budget, form=args.format
    )
    return _emit(text, output)


def sweep_text(
    problem: Problem,
    x: float,
    kind: str,
    *,
    solvers: Sequence[Solver],
    budget: float,
    form: str,
) -> str:
    """The ``kind`` sweep of ``problem`` at x as a table, JSON or CSV."""
    from gradviz.core.analysis.sweep import jitter_sweep, step_sweep
    from gradviz.core.io import sweep_export
    from gradviz.core.problem.data import problem_data

    data = problem_data(problem)
    if kind == "jitter":
        return sweep_export.sweep_text(
            jitter_sweep(data, x, solvers=solvers, budget_s=budget), form
        )
    return sweep_export.sweep_text(step_sweep(data, x, budget_s=budget), form)


def curves_text(problem: Problem, points: int, budget: float | None, form: str) -> str:
    """The curves at ``points`` x over the domain, with the reference unless ``budget`` is
    None, as CSV or JSON (see gradviz.core.io.curve_export). The reference comes first: it
    needs no TensorFlow."""
    from gradviz.core.analysis.diagnosis import conditioning, precision_curves
    from gradviz.core.numerics.reference import reference_curve, reference_solver
    from gradviz.core.problem.data import curve_grid, problem_data

    data = problem_data(problem)
    xs = curve_grid(problem, points)
    references = (
        None if budget is None else reference_solver(data, budget).evaluate_many(xs.tolist())
    )
    from gradviz.core.io.curve_export import CurvesExport, to_csv, to_json
    from gradviz.core.numerics.probe import ProbeEngine

    curves = ProbeEngine().curves(data, xs, spread=problem.n <= SPREAD_MAX_N, band=False)
    export = CurvesExport(curves, None, None, None)
    if references is not None:
        truth = reference_curve(problem, xs.tolist(), references, complete=True)
        precision = None if truth is None else precision_curves(curves, truth, conditioning(data))
        # The status and reason of the problem, not of a kink the grid may hit (its ends are
        # data points).
        shown = next((r for r in references if r.one_sided is None), references[0])
        export = CurvesExport(curves, shown, truth, precision)
    return to_json(export) + "\n" if form == "json" else to_csv(export)


def parse_size(text: str) -> tuple[int, int]:
    """``"1440x900"`` -> (1440, 900), within what a screen and an image can hold."""
    (w_lo, w_hi), (h_lo, h_hi) = WIDTH_RANGE, HEIGHT_RANGE
    allowed = f"WIDTHxHEIGHT in pixels, {w_lo} <= WIDTH <= {w_hi}, {h_lo} <= HEIGHT <= {h_hi}"
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(re.fullmatch("[0-9]{1,5}", part) for part in parts):
        raise ProblemError("size", text, allowed)
    width, height = int(parts[0]), int(parts[1])
    if not (w_lo <= width <= w_hi and h_lo <= height <= h_hi):
        raise ProblemError("size", text, allowed)
    return width, height


def _run_screenshot(args: argparse.Namespace) -> int:
    if args.what not in WHATS:
        raise ProblemError("what", args.what, "one of " + ", ".join(WHATS))
    size = parse_size(args.size or DEFAULT_SIZE)
    if Path(args.out).suffix.lower() not in EXTENSIONS[args.what]:
        allowed = " or ".join(EXTENSIONS[args.what])
        raise ProblemError(
            "OUT", args.out, f"a file name ending in {allowed} for --what {args.what}"
        )
    out = writable_target(args.out, args.force)
    problem, x, session = starting_point(args)
    from gradviz.gui.app import run_screenshot
    from gradviz.gui.export_dialog import ExportChoice

    view = None if session is None else session.view
    x = problem.default_x if x is None else x
    choice = ExportChoice(args.what, out, None)
    return run_screenshot(problem, x, choice, size, view=view, advice=not args.no_advice)


def _run_gui(args: argparse.Namespace) -> int:
    changes = problem_changes(args)  # the data file is read once
    _, x, session = starting_point(args, changes)  # fail fast, before Qt loads
    from gradviz.gui.app import run_app

    return run_app(changes, x, reset=args.reset, session=session)


def printable(text: str) -> str:
    """One line of text: newlines, control characters and undecodable bytes of a typed
    value (a file name, say) are shown as Python escapes."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def _ignore_stop_signals() -> None:
    """The output is complete: a stop signal from now on is too late to stop anything."""
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)


def _stop_exception(number: int) -> BaseException:
    return KeyboardInterrupt() if number == signal.SIGINT else Terminated()


@contextlib.contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt and SIGTERM raises Terminated in the main thread, so
    ``finally`` blocks and cleanups run; the previous handlers come back afterwards.

    An extension may run the handler and then drop its exception (python-flint's solve
    does, when it fails to certify), so a signal seen is raised again on the way out."""
    caught: list[int] = []

    def on_signal(number: int, frame: object) -> NoReturn:
        caught.append(number)
        raise _stop_exception(number)

    previous = {number: signal.signal(number, on_signal) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if caught:
        raise _stop_exception(caught[0])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gradviz`` script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "gui")
    try:
        args = check_values(parser.parse_args(argv))
        if args.command == "gui":
            return _run_gui(args)
        with signals_as_exceptions():
            runners = {
                "report": _run_report,
                "screenshot": _run_screenshot,
                "curves": _run_curves,
                "sweep": _run_sweep,
                "script": _run_script,
            }
            return runners[args.command](args)
    except (UsageError, ProblemError, SessionError, DataFileError) as error:
        print(f"gradviz: error: {printable(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except ComputeError as error:
        print(f"gradviz: error: {printable(str(error))}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("gradviz: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("gradviz: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
