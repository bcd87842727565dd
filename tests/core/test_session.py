"""Session files: a faithful round trip, strict validation, and atomic saves.

A session file comes from somewhere else (a colleague, an old version, a hand edit), so
everything that can be wrong with it must become one SessionError sentence that names the
file (on load) and the key or field at fault, and never any other exception.
"""

from __future__ import annotations

import ast
import inspect
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradviz.core.io.files as files_module
import gradviz.core.io.session as session_module
from gradviz.core.io.files import SaveError
from gradviz.core.io.session import (
    FORMAT,
    MAX_BYTES,
    VERSION,
    Session,
    SessionError,
    View,
    load_session,
    parse_session,
    save_session,
    to_json,
)
from gradviz.core.problem.spec import SOLVERS, Problem
from gradviz.core.problem.vector import Vector

SAMPLE = Session(
    problem=Problem(
        n=40,
        domain=(-2.5, 3.0),
        length_scale=0.7,
        seed=7,
        mean=-1.25,
        jitter=1e-6,
        solver="cholesky",
    ),
    x=0.3,
    view=View(show_mu=False, x_range=(-1.0, 2.0)),
)


def document() -> dict[str, Any]:
    """A fresh, valid session document (a plain dict) to break in one place."""
    return json.loads(to_json(SAMPLE))


def rejected(text: str) -> str:
    """The SessionError message parse_session gives for ``text`` (it must raise one)."""
    with pytest.raises(SessionError) as info:
        parse_session(text)
    assert type(info.value) is SessionError
    return str(info.value)


def rejected_document(doc: object) -> str:
    return rejected(json.dumps(doc))


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# --------------------------------------------------------------------------- round trip
@pytest.mark.parametrize(
    "session",
    [
        SAMPLE,
        Session(problem=Problem(), x=2.0),
        Session(problem=Problem(n=2, domain=(-1e6, 1e6)), x=-1e6, view=View(True, None)),
    ],
    ids=["sample", "seed-defaults", "extremes"],
)
def test_save_then_load_gives_an_equal_session(tmp_path: Path, session: Session) -> None:
    path = tmp_path / "lab.json"
    save_session(path, session)
    assert load_session(path) == session
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["format"] == "gradviz-session"
    assert raw["version"] == 3
    assert set(raw) == {"format", "version", "problem", "data", "x", "view"}
    assert raw["problem"] == session.problem.to_dict()
    assert raw["data"] is None  # no y pinned: it is drawn again on load
    assert raw["x"] == session.x
    expected_range = None if session.view.x_range is None else list(session.view.x_range)
    assert raw["view"] == {"show_mu": session.view.show_mu, "x_range": expected_range}
    assert listing(tmp_path) == ["lab.json"]  # no temporary file left behind


def test_the_file_is_standard_json() -> None:
    def strict(name: str) -> None:
        raise AssertionError(f"non-standard token {name}")

    text = to_json(SAMPLE)
    json.loads(text, parse_constant=strict)
    assert parse_session(text) == SAMPLE
    assert FORMAT == "gradviz-session" and VERSION == 3


FINITE = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    lo = draw(st.floats(min_value=-1e6, max_value=1e6 - 1))
    hi = draw(st.floats(min_value=lo, max_value=1e6).filter(lambda v: v > lo))
    problem = Problem(
        n=draw(st.integers(2, 5000)),
        domain=(lo, hi),
        length_scale=draw(st.floats(min_value=1e-6, max_value=1e6)),
        seed=draw(st.integers(0, 2**32 - 1)),
        mean=draw(FINITE),
        jitter=draw(st.floats(min_value=0, max_value=1e300)),
        solver=draw(st.sampled_from(SOLVERS)),
    )
    x = draw(st.floats(min_value=-1e6, max_value=1e6))
    coordinate = st.floats(min_value=-1e6, max_value=1e6)
    x_range = draw(st.none() | st.tuples(coordinate, coordinate).filter(lambda r: r[0] < r[1]))
    return Session(problem, x, View(show_mu=draw(st.booleans()), x_range=x_range))


@settings(max_examples=200, deadline=None)
@given(sessions())
def test_round_trip_of_any_valid_session(session: Session) -> None:
    assert parse_session(to_json(session)) == session


# ------------------------------------------------------------------- what load rejects
def test_load_names_the_file_and_the_key(tmp_path: Path) -> None:
    doc = document()
    doc["problem"]["n"] = 1
    path = tmp_path / "broken session.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SessionError) as info:
        load_session(path)
    message = str(info.value)
    assert str(path) in message
    assert "problem.n" in message
    assert "\n" not in message


def test_malformed_json() -> None:
    message = rejected('{"format": "gradviz-session", ')
    assert "not valid JSON" in message and "line 1" in message
    assert "not valid JSON" in rejected("")
    assert "not valid JSON" in rejected(to_json(SAMPLE) + " trailing")


@pytest.mark.parametrize("text", ["[]", "[1, 2]", "null", "3", '"session"', "true"])
def test_a_document_that_is_not_an_object(text: str) -> None:
    assert "must be a JSON object" in rejected(text)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("where", ["x", "mean", "x_range"])
def test_non_standard_number_tokens(token: str, where: str) -> None:
    doc = document()
    if where == "x":
        doc["x"] = "TOKEN"
    elif where == "mean":
        doc["problem"]["mean"] = "TOKEN"
    else:
        doc["view"]["x_range"] = [0, "TOKEN"]
    message = rejected(json.dumps(doc).replace('"TOKEN"', token))
    assert token.lstrip("-") in message


@pytest.mark.parametrize(
    ("where", "key"),
    [(None, "colour"), ("problem", "noise"), ("view", "zoom")],
)
def test_unknown_keys(where: str | None, key: str) -> None:
    doc = document()
    (doc if where is None else doc[where])[key] = 1
    message = rejected_document(doc)
    assert "unknown keys" in message and key in message
    if where is not None:
        assert where in message


@pytest.mark.parametrize(
    ("where", "key"),
    [
        (None, "format"),
        (None, "version"),
        (None, "problem"),
        (None, "x"),
        (None, "view"),
        ("problem", "n"),
        ("problem", "solver"),
        ("problem", "domain"),
        ("view", "show_mu"),
        ("view", "x_range"),
    ],
)
def test_missing_keys(where: str | None, key: str) -> None:
    doc = document()
    del (doc if where is None else doc[where])[key]
    message = rejected_document(doc)
    assert f"lacks the keys: {key}" in message
    if where is not None:
        assert where in message


@pytest.mark.parametrize(
    ("where", "key", "value", "named"),
    [
        (None, "x", "2.0", "x"),
        (None, "x", None, "x"),
        (None, "x", True, "x"),
        (None, "x", [2.0], "x"),
        (None, "problem", [], '"problem"'),
        (None, "problem", "n=40", '"problem"'),
        (None, "view", None, '"view"'),
        ("view", "show_mu", 1, "view.show_mu"),
        ("view", "show_mu", "true", "view.show_mu"),
        ("view", "show_mu", None, "view.show_mu"),
        ("problem", "domain", "-5 5", "problem.domain"),
        ("problem", "domain", {"lo": -5, "hi": 5}, "problem.domain"),
        ("problem", "domain", [-5, "5"], "problem.domain"),
        ("problem", "domain", [-5, 0, 5], "problem.domain"),
        ("problem", "n", 2.5, "problem.n"),
        ("problem", "n", 40.0, "problem.n"),
        ("problem", "n", "40", "problem.n"),
        ("problem", "n", True, "problem.n"),
        ("problem", "seed", 1.5, "problem.seed"),
        ("problem", "length_scale", "1.5", "problem.length_scale"),
        ("problem", "mean", None, "problem.mean"),
        ("problem", "jitter", False, "problem.jitter"),
        ("problem", "solver", 1, "problem.solver"),
        ("problem", "solver", ["cholesky"], "problem.solver"),
    ],
)
def test_wrong_types(where: str | None, key: str, value: object, named: str) -> None:
    doc = document()
    (doc if where is None else doc[where])[key] = value
    message = rejected_document(doc)
    assert named in message, message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n", 1),
        ("n", 0),
        ("n", 5001),
        ("n", -40),
        ("domain", [1, 1]),
        ("domain", [2, -2]),
        ("domain", [0, 2e6]),
        ("domain", [-1.5e6, 0]),
        ("length_scale", 0),
        ("length_scale", -1.5),
        ("length_scale", 1e-7),
        ("length_scale", 2e6),
        ("seed", -1),
        ("seed", 2**32),
        ("mean", 1e400),  # JSON reads it as infinity
        ("jitter", -1e-6),
        ("jitter", 1e400),
        ("solver", "lu"),
        ("solver", ""),
    ],
)
def test_out_of_range_problem_fields(field: str, value: object) -> None:
    doc = document()
    doc["problem"][field] = "VALUE"
    text = json.dumps(doc).replace('"VALUE"', "1e400" if value == 1e400 else json.dumps(value))
    message = rejected(text)
    assert f"problem.{field}" in message
    assert "must be" in message  # the allowed range is stated


@pytest.mark.parametrize("x", [1e6 + 1, -2e6, 1e300, "1e400"])
def test_x_out_of_range(x: object) -> None:
    doc = document()
    doc["x"] = "X"
    message = rejected(json.dumps(doc).replace('"X"', x if isinstance(x, str) else repr(x)))
    assert message.startswith("x:")
    assert "1e+06" in message


def test_x_at_the_limits_is_accepted() -> None:
    for x in (1e6, -1e6, 0, 7):
        doc = document()
        doc["x"] = x
        assert parse_session(json.dumps(doc)).x == x


@pytest.mark.parametrize(
    "x_range",
    [
        [1, 1],
        [2, 1],
        [0],
        [0, 1, 2],
        [0, "1"],
        [True, 2],
        "0 1",
        {"lo": 0, "hi": 1},
        5,
        [-1e308, 1e308],
        [0, 1000001],
    ],
)
def test_x_range_must_be_null_or_increasing_pair(x_range: object) -> None:
    doc = document()
    doc["view"]["x_range"] = x_range
    assert "view.x_range" in rejected_document(doc)


def test_x_range_null_and_integers_are_accepted() -> None:
    doc = document()
    doc["view"]["x_range"] = None
    assert parse_session(json.dumps(doc)).view.x_range is None
    doc["view"]["x_range"] = [-1, 2]
    x_range = parse_session(json.dumps(doc)).view.x_range
    assert x_range == (-1.0, 2.0)
    assert x_range is not None and all(type(v) is float for v in x_range)


def test_a_newer_version_is_named_as_such() -> None:
    doc = document()
    doc["version"] = 4
    message = rejected_document(doc)
    assert "newer" in message and "4" in message


@pytest.mark.parametrize("version", [0, -1, "1", True, 1.0, None, [1]])
def test_bad_versions(version: object) -> None:
    doc = document()
    doc["version"] = version
    message = rejected_document(doc)
    assert '"version"' in message
    assert "newer" not in message


@pytest.mark.parametrize("name", ["gradviz-sessions", "", None, 1, "GRADVIZ-SESSION"])
def test_wrong_format_name(name: object) -> None:
    doc = document()
    doc["format"] = name
    message = rejected_document(doc)
    assert '"format"' in message and FORMAT in message


def test_a_file_over_one_megabyte_is_refused_before_parsing(tmp_path: Path) -> None:
    text = to_json(SAMPLE)
    at_limit = tmp_path / "at-limit.json"
    at_limit.write_text(text + " " * (MAX_BYTES - len(text)), encoding="utf-8")
    assert at_limit.stat().st_size == MAX_BYTES
    assert load_session(at_limit) == SAMPLE

    over = tmp_path / "padded.json"
    over.write_text(text + " " * (MAX_BYTES - len(text) + 1), encoding="utf-8")
    with pytest.raises(SessionError) as info:
        load_session(over)
    message = str(info.value)
    assert str(over) in message
    assert f"{MAX_BYTES + 1:,}" in message and "at most" in message


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    doc = document()
    doc["problem"]["solver"] = "cholesky é"
    path.write_bytes(json.dumps(doc, ensure_ascii=False).encode("latin-1"))
    with pytest.raises(SessionError) as info:
        load_session(path)
    assert str(path) in str(info.value) and "UTF-8" in str(info.value)


def test_non_ascii_utf8_is_read(tmp_path: Path) -> None:
    path = tmp_path / "sessión ü.json"
    doc = document()
    doc["problem"]["solver"] = "cholesky é"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(SessionError) as info:
        load_session(path)
    assert "problem.solver" in str(info.value) and "é" in str(info.value)


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "lab.json"
    with pytest.raises(SessionError) as info:
        load_session(path)
    assert str(path) in str(info.value)
    assert "No such file" in str(info.value)


def test_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "lab.json"
    folder.mkdir()
    with pytest.raises(SessionError) as info:
        load_session(folder)
    assert str(folder) in str(info.value)


def test_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    with pytest.raises(SessionError) as info:
        load_session(path)
    assert str(path) in str(info.value) and "not valid JSON" in str(info.value)


# --------------------------------------------------- anything in: Session or SessionError
def parses_or_session_error(text: str) -> None:
    try:
        result = parse_session(text)
    except SessionError:
        return
    assert isinstance(result, Session)
    assert parse_session(to_json(result)) == result  # whatever is accepted saves and reloads


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_session_or_session_error(text: str) -> None:
    parses_or_session_error(text)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**308, max_value=10**400)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from([FORMAT, "inverse", "solve", "cholesky", "n", "x", "view"])
)
JSON_LIKE = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    *("format", "version", "problem", "data", "x", "view", "n", "domain"),
                    *("show_mu", "x_range", "y", "kernel"),
                ]
            )
            | st.text(max_size=6),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)
PATHS = [
    ("format",),
    ("version",),
    ("problem",),
    ("x",),
    ("view",),
    *[("problem", key) for key in session_module.PROBLEM_KEYS[VERSION]],
    ("problem", "domain", 0),
    ("problem", "domain", 1),
    ("view", "show_mu"),
    ("view", "x_range"),
]


def dump(value: object) -> str:
    """JSON text of ``value``; non-finite floats become the NaN/Infinity tokens."""
    return json.dumps(value, allow_nan=True)


@settings(max_examples=300, deadline=None)
@given(JSON_LIKE)
def test_any_json_structure_gives_a_session_or_session_error(value: object) -> None:
    parses_or_session_error(dump(value))


@st.composite
def mutated_documents(draw: st.DrawFn) -> object:
    doc = document()
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = doc
        for key in path[:-1]:
            if not isinstance(parent, (dict, list)):
                break
            try:
                parent = parent[key]
            except (KeyError, IndexError, TypeError):
                break
        else:
            last = path[-1]
            if isinstance(parent, dict) and draw(st.integers(0, 3)) == 0:
                parent.pop(last, None)
            elif isinstance(parent, dict) or (
                isinstance(parent, list) and isinstance(last, int) and last < len(parent)
            ):
                parent[last] = draw(JSON_LIKE)
    return doc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_any_mutation_of_a_valid_document_gives_a_session_or_session_error(doc: object) -> None:
    parses_or_session_error(dump(doc))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_on_disk_give_a_session_or_session_error(tmp_path_factory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "lab.json"
    path.write_bytes(raw)
    try:
        assert isinstance(load_session(path), Session)
    except SessionError as error:
        assert str(path) in str(error)


# ------------------------------------------------------------- hostile input
def test_deeply_nested_json_is_a_session_error() -> None:
    rejected("[" * 100_000 + "]" * 100_000)


def test_a_5000_digit_integer_is_a_session_error() -> None:
    doc = document()
    doc["x"] = "X"
    rejected(json.dumps(doc).replace('"X"', "1" * 5000))


def test_a_huge_integer_in_x_range_is_a_session_error() -> None:
    doc = document()
    doc["view"]["x_range"] = [0, 10**400]
    assert "view.x_range" in rejected_document(doc)


def test_huge_integers_elsewhere_are_session_errors() -> None:
    for path in (("x",), ("problem", "mean"), ("problem", "n"), ("problem", "jitter")):
        doc = document()
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = 10**400
        assert path[-1] in rejected_document(doc)


# --------------------------------------------------------------------------- atomic save
def test_save_into_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "lab.json"
    with pytest.raises(SaveError) as info:
        save_session(target, SAMPLE)
    assert str(target) in str(info.value) and "does not exist" in str(info.value)
    assert listing(tmp_path) == []


def test_save_onto_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "lab.json"
    folder.mkdir()
    with pytest.raises(SaveError) as info:
        save_session(folder, SAMPLE)
    assert "folder" in str(info.value)
    assert listing(tmp_path) == ["lab.json"] and listing(folder) == []


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    """A target that already holds an older session, longer than the new one."""
    target = tmp_path / "lab.json"
    older = Session(Problem(), 2.0)
    target.write_text(to_json(older) + "\n" + " " * 5000 + "\n", encoding="utf-8")
    return target


def test_a_failing_write_leaves_no_temporary_file_and_the_target_unchanged(
    existing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = existing.read_bytes()
    original = Path.write_text
    temporaries: list[Path] = []

    def half_then_fail(self: Path, text: str, *args: object, **kwargs: object) -> int:
        assert self.exists(), "the temporary file should exist before the write"
        temporaries.append(self)
        original(self, text[: len(text) // 2], encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    with pytest.raises(SaveError) as info:
        save_session(existing, SAMPLE)
    monkeypatch.undo()
    assert "no space left on device" in str(info.value)
    assert len(temporaries) == 1 and temporaries[0].parent == existing.parent
    assert temporaries[0] != existing
    assert not temporaries[0].exists()
    assert listing(existing.parent) == ["lab.json"]
    assert existing.read_bytes() == before


def test_a_failing_replace_leaves_no_temporary_file(
    existing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = existing.read_bytes()

    def refuse(source: object, target: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(SaveError):
        save_session(existing, SAMPLE)
    monkeypatch.undo()
    assert listing(existing.parent) == ["lab.json"]
    assert existing.read_bytes() == before


def test_a_failure_when_nothing_existed_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Path, "write_text", fail)
    with pytest.raises(SaveError):
        save_session(tmp_path / "new.json", SAMPLE)
    monkeypatch.undo()
    assert listing(tmp_path) == []


def test_saving_replaces_the_whole_existing_content(existing: Path) -> None:
    mode = 0o640
    existing.chmod(mode)
    save_session(existing, SAMPLE)
    assert existing.read_text(encoding="utf-8") == to_json(SAMPLE) + "\n"
    assert load_session(existing) == SAMPLE
    assert existing.stat().st_mode & 0o777 == mode  # the permissions of the file replaced
    assert listing(existing.parent) == ["lab.json"]


def test_a_new_file_is_an_ordinary_file(tmp_path: Path) -> None:
    target = tmp_path / "new.json"
    save_session(target, SAMPLE)
    assert target.stat().st_mode & 0o777 == 0o644


def calls_and_imports(module: object) -> tuple[set[str], set[str]]:
    """The names a module calls and the top-level packages it imports."""
    tree = ast.parse(inspect.getsource(module))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])
    }
    called = {
        node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    return called, imported


@pytest.mark.parametrize("module", [session_module, files_module], ids=lambda m: m.__name__)
def test_loading_never_evaluates_or_unpickles(module: object) -> None:
    # The docstring says "nothing is ... unpickled", so look at the code, not the text.
    called, imported = calls_and_imports(module)
    assert imported.isdisjoint({"pickle", "marshal", "shelve", "yaml", "dill", "cloudpickle"})
    assert called.isdisjoint({"eval", "exec", "__import__", "literal_eval"})
    assert "eval(" not in inspect.getsource(module)
    assert "compile(" not in inspect.getsource(module).replace("re.compile(", "")


def test_the_one_parser_is_json_loads() -> None:
    # The walk does see calls: sessions go through files.parse_json, which uses json.loads.
    assert "parse_json" in calls_and_imports(session_module)[0]
    assert "loads" in calls_and_imports(files_module)[0]


def test_nan_in_a_session_cannot_be_saved(tmp_path: Path) -> None:
    # Sessions built by gradviz are validated; a View with NaN would be a programming error,
    # and to_json refuses to write a non-standard file rather than write one.
    broken = Session(SAMPLE.problem, SAMPLE.x, View(True, (math.nan, 1.0)))
    with pytest.raises(ValueError):
        to_json(broken)
    with pytest.raises((SaveError, ValueError)):
        save_session(tmp_path / "nan.json", broken)
    assert listing(tmp_path) == []


# ------------------------------------------------------------- data carried exactly (v2)
DATA_SESSION = Session(
    problem=Problem(kernel="rational-quadratic", alpha=0.3, jitter=1e-6).replace(
        points=Vector.of([0.1, -2.0 / 3.0, 5e-324, 1e6]), y=Vector.of([1 / 3, -0.0, 2.5, 7e300])
    ),
    x=0.2,
)


def test_data_and_a_pinned_sample_round_trip_bit_for_bit(tmp_path: Path) -> None:
    pinned = Session(Problem(n=3, kernel="matern32").replace(y=Vector.of([0.1, 0.2, 1e-300])), 1.0)
    for session in (DATA_SESSION, pinned):
        path = tmp_path / "data.json"
        save_session(path, session)
        loaded = load_session(path)
        assert loaded == session
        assert loaded.problem.y.raw == session.problem.y.raw  # type: ignore[union-attr]
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert raw["data"]["y"] == [v.hex() for v in session.problem.y.array.tolist()]  # type: ignore[union-attr]
    assert raw["data"]["x"] is None  # the grid's points are not stored: linspace gives them


def test_a_version_1_session_still_opens_and_draws_its_sample() -> None:
    doc = document()
    doc["version"] = 1
    del doc["data"]
    for key in ("kernel", "signal_variance", "alpha", "period", "quantity"):
        del doc["problem"][key]
    session = parse_session(json.dumps(doc))
    assert session.problem == SAMPLE.problem and session.problem.y is None
    doc["data"] = None
    assert "unknown keys: data" in rejected_document(doc)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("abc", '"data" must be a JSON object'),
        ({"y": []}, '"data" lacks the keys: x'),
        ({"x": None, "y": "0x1p+0"}, "data.y must be a list"),
        ({"x": None, "y": [1.0]}, "data.y[0] is 1.0, not a float.hex() string"),
        ({"x": None, "y": ["0x1p+0", "nan"]}, "data.y[1] is 'nan', not a finite number"),
        ({"x": None, "y": ["0x1p+0", "0x1p+2000"]}, "data.y[1] is '0x1p+2000', not a float.hex()"),
        ({"x": None, "y": ["0x1p+0"]}, "problem.y: '1 values' is not allowed"),
        ({"x": ["0x0p+0", "0x1p+0"], "y": ["0x1p+0"]}, "problem.y: '1 values'"),
    ],
)
def test_bad_data_in_a_session(data: object, words: str) -> None:
    doc = document()
    doc["data"] = data
    assert words in rejected_document(doc)


def test_a_session_whose_n_disagrees_with_its_data() -> None:
    doc = json.loads(to_json(DATA_SESSION))
    doc["problem"]["n"] = 5
    assert "problem.n is 5 but the data gives 4" in rejected_document(doc)


def test_a_session_carries_its_quantity_and_its_probe_on_that_axis(tmp_path: Path) -> None:
    """Format 3: the quantity is a problem field; x is checked on the quantity's axis
    (theta for an LML quantity, where it must be positive)."""
    problem = Problem(n=12, jitter=1e-3, kernel="periodic", period=2.0, quantity="lml-period")
    session = Session(problem=problem, x=3.5)
    path = tmp_path / "lml.json"
    save_session(path, session)
    assert load_session(path) == session
    doc = json.loads(to_json(session))
    assert doc["problem"]["quantity"] == "lml-period"
    doc["x"] = -1.0
    assert "x: -1.0 is not allowed" in rejected_document(doc)
    doc["x"] = 2.0
    doc["problem"]["kernel"] = "rbf"
    doc["problem"]["period"] = None
    assert "problem.quantity: 'lml-period'" in rejected_document(doc)


def test_a_version_2_session_opens_as_the_mean_slope() -> None:
    doc = document()
    doc["version"] = 2
    del doc["problem"]["quantity"]
    assert parse_session(json.dumps(doc)) == SAMPLE
    doc["problem"]["quantity"] = "mean-slope"
    assert "unknown keys: quantity" in rejected_document(doc)
