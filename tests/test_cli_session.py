"""``--session FILE`` on the command line, the memory check, and a property test of parsing.

The two real reports run one after the other in the test process (``spec.gradviz_here``);
every failure path runs in-process (or in one TensorFlow-free subprocess) and must exit 2 with one
line on stderr before anything heavy is imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec import gradviz_here

from gradviz.cli import (
    DEFAULT_SIZE,
    HEIGHT_RANGE,
    WIDTH_RANGE,
    UsageError,
    build_parser,
    main,
    parse_size,
    starting_point,
)
from gradviz.core.io.session import Session, SessionError, View, save_session, to_json
from gradviz.core.problem import data
from gradviz.core.problem.spec import Problem, ProblemError

SESSION = Session(
    problem=Problem(
        n=20, domain=(-4.0, 4.0), length_scale=1.2, seed=3, mean=0.5, jitter=1e-6, solver="cholesky"
    ),
    x=0.75,
    view=View(show_mu=False, x_range=(-2.0, 2.0)),
)
HEAVY = ("tensorflow", "PyQt6", "pyqtgraph")


def one_line(stderr: str) -> str:
    assert stderr.endswith("\n") and stderr.count("\n") == 1, repr(stderr)
    assert "Traceback" not in stderr
    return stderr.rstrip("\n")


@pytest.fixture
def session_file(tmp_path: Path) -> Path:
    path = tmp_path / "lab session.json"
    save_session(path, SESSION)
    return path


def config(problem: Problem, x: float) -> dict[str, object]:
    return {**problem.config(), "x": x}


# --------------------------------------------------------------- real reports (TensorFlow)
@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Both reports at once (each spends seconds importing TensorFlow), then collected."""
    path = tmp_path_factory.mktemp("session") / "lab.json"
    save_session(path, SESSION)
    base = ["report", "--session", str(path), "--no-reference", "--format", "json"]
    runs = {"session": base, "overridden": [*base, "--n", "41", "--x", "0.5"]}
    yield gradviz_here(runs)


def parsed(done: object) -> dict:
    assert isinstance(done, subprocess.CompletedProcess)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return json.loads(done.stdout)


@pytest.mark.timeout(300)
def test_report_uses_the_sessions_problem_and_x(reports: dict[str, object]) -> None:
    document = parsed(reports["session"])
    assert document["config"] == config(SESSION.problem, SESSION.x)
    assert document["reference"] is None
    assert len(document["results"]) == 14
    assert all(row["status"] == "ok" for row in document["results"])


@pytest.mark.timeout(300)
def test_options_beside_the_session_override_it(reports: dict[str, object]) -> None:
    document = parsed(reports["overridden"])
    assert document["config"] == config(SESSION.problem.replace(n=41), 0.5)
    # The override really changed the answer, not only the label.
    other = parsed(reports["session"])
    grads = [row["grad"] for row in document["results"]]
    assert grads != [row["grad"] for row in other["results"]]


# ---------------------------------------------------- starting_point: session + options
def start(*argv: str) -> tuple[Problem, float | None, Session | None]:
    return starting_point(build_parser().parse_args(list(argv)))


def test_starting_point_from_a_session(session_file: Path) -> None:
    problem, x, session = start("report", "--session", str(session_file))
    assert session == SESSION
    assert problem == SESSION.problem
    assert x == SESSION.x


def test_starting_point_options_override_field_by_field(session_file: Path) -> None:
    problem, x, session = start(
        "report", "--session", str(session_file), "--n", "41", "--solver", "solve"
    )
    assert problem == SESSION.problem.replace(n=41, solver="solve")
    assert x == SESSION.x and session == SESSION
    problem, x, _ = start("gui", "--session", str(session_file), "--x", "-0.25")
    assert problem == SESSION.problem and x == -0.25
    problem, x, _ = start("report", "--session", str(session_file), "--domain", "-1", "1")
    assert problem.domain == (-1.0, 1.0) and problem.n == SESSION.problem.n
    assert x == SESSION.x


def test_starting_point_without_a_session() -> None:
    assert start("report") == (Problem(), None, None)
    assert start("report", "--n", "41", "--x", "0.5") == (Problem(n=41), 0.5, None)


def test_an_override_is_validated_on_top_of_the_session(session_file: Path) -> None:
    with pytest.raises(ProblemError) as info:
        start("report", "--session", str(session_file), "--jitter=-1")
    assert info.value.field == "jitter"
    # The domain is given as a pair: the pair is checked, whatever the session held.
    with pytest.raises(ProblemError) as info:
        start("report", "--session", str(session_file), "--domain", "5", "4")
    assert info.value.field == "domain"


# ------------------------------------------------------------------ broken session files
def broken_sessions(folder: Path) -> dict[str, Path]:
    """Session files each broken in one way, by name."""
    files = {
        "malformed": '{"format": "gradviz-session",',
        "array": "[1, 2]",
        "newer": to_json(SESSION).replace('"version": 3', '"version": 4'),
        "bad-n": to_json(SESSION).replace('"n": 20', '"n": 1'),
        "nan": to_json(SESSION).replace('"x": 0.75', '"x": NaN'),
    }
    paths = {}
    for name, text in files.items():
        path = folder / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    paths["missing"] = folder / "missing.json"
    directory = folder / "directory.json"
    directory.mkdir()
    paths["directory"] = directory
    return paths


def test_a_broken_session_exits_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tensorflow_before = "tensorflow" in sys.modules
    for name, path in broken_sessions(tmp_path).items():
        status = main(["report", "--session", str(path), "--no-reference", "--format", "json"])
        out, err = capsys.readouterr()
        assert status == 2, name
        assert out == "", name
        line = one_line(err)
        assert line.startswith(f"gradviz: error: Cannot open session {path}"), line
        if name == "bad-n":
            assert "problem.n" in line
        if name == "newer":
            assert "newer" in line
    if not tensorflow_before:
        assert "tensorflow" not in sys.modules


def test_broken_sessions_never_load_tensorflow_or_qt(tmp_path: Path) -> None:
    paths = broken_sessions(tmp_path)
    rows = [
        [command, *extra, "--session", str(path)]
        for path in paths.values()
        for command, extra in (
            ("report", ["--no-reference"]),
            ("gui", []),
            ("screenshot", [str(tmp_path / "out.png")]),
        )
    ]
    code = (
        "import contextlib, io, json, sys\n"
        "from gradviz.cli import main\n"
        f"rows = {rows!r}\n"
        "results = []\n"
        "for row in rows:\n"
        "    err = io.StringIO()\n"
        "    with contextlib.redirect_stderr(err):\n"
        "        results.append([main(row), err.getvalue()])\n"
        f"print(json.dumps([results, [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    results, loaded = json.loads(done.stdout)
    assert loaded == []
    for row, (status, err) in zip(rows, results, strict=True):
        assert status == 2, row
        assert one_line(err).startswith(f"gradviz: error: Cannot open session {row[-1]}"), err
    assert not (tmp_path / "out.png").exists()


# ------------------------------------------------------------------------ too large for RAM
def test_a_problem_too_large_for_memory_exits_2_naming_n(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(data, "available_bytes", lambda: 2**30)
    tensorflow_before = "tensorflow" in sys.modules
    assert main(["report", "--n", "5000", "--no-reference"]) == 2
    out, err = capsys.readouterr()
    line = one_line(err)
    assert out == ""
    assert line.startswith("gradviz: error: n: 5000 is not allowed")
    assert "at most 2072 " in line and "GiB" in line

    # The same limit applies to a session's n, and an option can bring it back down.
    path = tmp_path / "big.json"
    save_session(path, Session(Problem(n=5000), 2.0))
    assert main(["report", "--session", str(path)]) == 2
    assert "n: 5000" in one_line(capsys.readouterr().err)
    assert start("report", "--session", str(path), "--n", "2000")[0] == Problem(n=2000)
    if not tensorflow_before:
        assert "tensorflow" not in sys.modules


# --------------------------------------------------------- hostile input
def test_a_5000_digit_number_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--n", "1" * 5000]) == 2
    assert "n:" in one_line(capsys.readouterr().err)


def test_a_superscript_digit_in_size_exits_2(tmp_path: Path) -> None:
    with pytest.raises(ProblemError):
        parse_size("²x240")


def test_parse_size_examples() -> None:
    (w_lo, w_hi), (h_lo, h_hi) = WIDTH_RANGE, HEIGHT_RANGE
    assert parse_size(DEFAULT_SIZE) == (1600, 960)
    assert parse_size(f"{w_lo}X{h_lo}") == (w_lo, h_lo)
    assert parse_size(f"{w_hi}x{h_hi}") == (w_hi, h_hi)
    bad = ["", "x", "1440", "1440x", "x900", "1440x900x1", "-1440x900", "1e3x900", " 1440x900"]
    bad += [f"{w_lo - 1}x{h_lo}", f"{w_lo}x{h_lo - 1}", f"{w_hi + 1}x{h_hi}", f"{w_hi}x{h_hi + 1}"]
    for text in bad:
        with pytest.raises(ProblemError) as info:
            parse_size(text)
        assert info.value.field == "size", text


# ------------------------------------------------- property: parsing only raises our errors
PROBLEM_OPTIONS = ["--n", "--length-scale", "--seed", "--mean", "--jitter", "--solver", "--x"]
VALUE_OPTIONS = {
    "report": [*PROBLEM_OPTIONS, "--format", "--budget", "--session"],
    "gui": [*PROBLEM_OPTIONS, "--session"],
    "screenshot": [*PROBLEM_OPTIONS, "--size", "--what", "--session"],
}
FLAGS = {
    "report": ["--no-reference", "--verbose"],
    "gui": ["--reset"],
    "screenshot": ["--force", "--no-advice"],
}
# Mistakes: unknown or misplaced options, an ambiguous abbreviation, "--" (everything after
# it positional), and options of another command.
NOISE = ["--bogus", "-z", "--", "--s", "--len", "--size", "--format", "--reset", "--what"]
NUMBERS = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.integers(-10, 6000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-10, max_value=10).map(lambda v: f"{v:g}"),
    st.sampled_from(
        ["nan", "inf", "-inf", "-1e-6", "1e-6", "1e400", "0", "2", "5000", "5001", "-0", "1_0"]
    ),
    st.sampled_from(["inverse", "solve", "cholesky", "json", "table", "window", "plots"]),
    st.sampled_from(["1440x900", "320x240", "0x0", "ax1", "\udcff", "../", "/"]),
)


def argv_safe(text: str) -> bool:
    """What a real argv can hold and what does not trigger argparse's help (SystemExit):
    no NUL (impossible in argv) and no -h/--help prefix."""
    return "\x00" not in text and not text.startswith(("-h", "--h"))


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12).filter(argv_safe)
VALUES = st.one_of(NUMBERS, NUMBERS, NUMBERS, TEXT, st.just(""))


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """A command and mostly well-formed options with random values, plus some mistakes."""
    command = draw(st.sampled_from(["report", "gui", "screenshot"]))
    argv = [command, "out.png"] if command == "screenshot" and draw(st.booleans()) else [command]
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.integers(0, 9))
        if kind <= 5:
            option, value = draw(st.sampled_from(VALUE_OPTIONS[command])), draw(VALUES)
            argv += [f"{option}={value}"] if draw(st.integers(0, 4)) == 0 else [option, value]
        elif kind == 6:
            argv += ["--domain", draw(VALUES), draw(VALUES)]
        elif kind == 7:
            argv.append(draw(st.sampled_from(FLAGS[command])))
        elif kind == 8:
            argv.append(draw(st.sampled_from(NOISE)))
        else:
            argv.append(draw(VALUES))  # a stray value, or a missing option's argument
    return argv


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(command_lines())
def test_parsing_and_validation_raise_only_gradviz_errors(argv: list[str]) -> None:
    try:
        args = build_parser().parse_args(argv)
        starting_point(args)
        if args.command == "screenshot":
            parse_size(args.size or DEFAULT_SIZE)
    except (UsageError, ProblemError, SessionError) as error:
        assert str(error)  # a sentence to print, never empty
