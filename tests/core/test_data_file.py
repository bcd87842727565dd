"""Data files: the three formats give the same data, and every bad or hostile file is one
line naming the file, where (line or row) and why, exit status 2 on the command line, and
nothing heavy imported (no TensorFlow here)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradviz.cli import main
from gradviz.core.io.data_file import MAX_BYTES, DataFileError, load_data, problem_with_data
from gradviz.core.problem.spec import Problem

RNG_SEED = 19
X = np.random.default_rng(RNG_SEED).uniform(-3.0, 3.0, 12)  # unsorted, uneven
Y = np.sin(X) + 0.25


def write_all(folder: Path) -> dict[str, Path]:
    """The same 12 points as CSV (with a header), whitespace text, .npy and .npz."""
    files = {name: folder / name for name in ("d.csv", "d.txt", "d.npy", "d.npz")}
    lines = [f"{a!r},{b!r}" for a, b in zip(X.tolist(), Y.tolist(), strict=True)]
    files["d.csv"].write_text("x,y\n" + "\n".join(lines) + "\n", encoding="utf-8")
    rows = [f"  {a!r}\t {b!r}" for a, b in zip(X.tolist(), Y.tolist(), strict=True)]
    files["d.txt"].write_text("# made by the test\n\n" + "\r\n".join(rows), encoding="utf-8")
    np.save(files["d.npy"], np.column_stack([X, Y]))
    np.savez_compressed(files["d.npz"], x=X, y=Y, note=np.arange(3))
    return files


def test_every_format_gives_the_same_points_bit_for_bit(tmp_path: Path) -> None:
    loaded = [load_data(path) for path in write_all(tmp_path).values()]
    for points, y in loaded:
        assert np.array_equal(points.array, X) and np.array_equal(y.array, Y)
    assert len({pair for pair in loaded}) == 1
    problems = {
        problem_with_data(Problem(kernel="matern32"), p) for p in write_all(tmp_path).values()
    }
    assert len(problems) == 1


def test_integers_float32_and_a_byte_order_mark_are_numbers(tmp_path: Path) -> None:
    path = tmp_path / "ints.npy"
    np.save(path, np.array([[1, 2], [3, -4]], dtype=np.int16))
    assert load_data(path)[1].array.tolist() == [2.0, -4.0]
    np.save(path, np.array([[0.1, 2], [3, -4]], dtype=">f4"))
    assert load_data(path)[0].array[0] == np.float32(0.1)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b'\xef\xbb\xbf"x";"y"\n"1.5";"2"\n-3;1e-3\n')
    assert load_data(bom)[0].array.tolist() == [1.5, -3.0]


def npz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


# (file name, content, words the message must hold)
BAD: list[tuple[str, bytes, str]] = [
    ("empty.csv", b"", "it is empty"),
    ("header.csv", b"x,y\n\n# nothing\n", "no data; at least 2 points"),
    ("one.csv", b"x,y\n1,2\n", "1 point; at least 2"),
    ("column.csv", b"x\n1\n2\n", "line 2: one column"),
    ("three.txt", b"1 2\n3 4 5\n", "line 2: 3 columns"),
    ("abc.csv", b"x,y\n1,2\n3,4\n5,abc\n", "line 4: 'abc' is not a number"),
    ("nan.csv", b"1,2\n3,nan\n", "line 2: y is nan"),
    ("inf.txt", b"1 2\n-inf 3\n", "line 2: x is -inf"),
    ("overflow.csv", b"1,2\n3,1e400\n", "line 2: y is inf"),
    ("far.csv", b"1,2\n3e6,1\n", "line 2: x = 3e+06 is outside |x| <= 1e+06"),
    ("same.csv", b"1,2\n1,3\n", "every x is 1"),
    ("many.csv", b"".join(b"%d,1\n" % i for i in range(5001)), "line 5001: more than 5000"),
    ("binary.csv", b"1,2\n\x00\x01\x02", "binary, not text (a NUL byte at offset 4)"),
    ("latin1.csv", b"x,y\n1,2\n3,\xe9\n", "line 3: it is not UTF-8 text (byte 0xe9 at offset 10)"),
    ("hex.csv", b"1,2\n0x10,3\n", "line 2: '0x10' is not a number"),
    ("shape.npy", npy(np.zeros((4, 3))), "shape (4, 3); expected (n, 2)"),
    ("flat.npy", npy(np.zeros(6)), "shape (6,); expected (n, 2)"),
    ("complex.npy", npy(np.zeros((3, 2), complex)), "dtype complex128; expected real"),
    ("object.npy", npy(np.array([[1, "a"]], dtype=object)), "dtype object"),
    ("bool.npy", npy(np.zeros((3, 2), bool)), "dtype bool"),
    ("record.npy", npy(np.zeros(3, dtype=[("x", "f8"), ("y", "f8")])), "expected real"),
    ("text.npy", b"1,2\n3,4\n", "not a .npy array"),
    ("cut.npy", npy(np.zeros((100, 2)))[:300], "cannot be read"),
    ("nan.npy", npy(np.array([[0.0, 1], [2, np.nan]])), "row 1 (from 0): y is nan"),
    ("one.npy", npy(np.zeros((1, 2))), "1 point"),
    ("noy.npz", npz({"x.npy": npy(np.arange(3.0))}), "no array y; it holds 'x'"),
    ("none.npz", npz({}), "no array x or y; it holds no arrays"),
    ("zip.npz", b"PK\x03\x04 not really", "not a .npz archive"),
    ("csv.npz", b"1,2\n3,4\n", "not a .npz archive"),
    (
        "lengths.npz",
        npz({"x.npy": npy(np.arange(3.0)), "y.npy": npy(np.arange(4.0))}),
        "differ in length (3 and 4)",
    ),
    (
        "matrix.npz",
        npz({"x.npy": npy(np.zeros((3, 2))), "y.npy": npy(np.arange(3.0))}),
        "array x has shape (3, 2); expected (n,)",
    ),
    (
        "inf.npz",
        npz({"x.npy": npy(np.arange(3.0)), "y.npy": npy(np.array([0, np.inf, 1]))}),
        "x[1], y[1]: y is inf",
    ),
]


def huge_npy() -> bytes:
    """A valid header declaring 10^11 rows and no data: nothing may be allocated."""
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 2), }"
    return b"\x93NUMPY\x01\x00" + (len(header) + 1).to_bytes(2, "little") + header + b"\n"


BAD += [("huge.npy", huge_npy(), "shape (100000000000, 2): more than 5000 points")]


@pytest.mark.parametrize(("name", "content", "words"), BAD, ids=[case[0] for case in BAD])
def test_bad_files_say_where_and_why(tmp_path: Path, name: str, content: bytes, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataFileError) as info:
        load_data(path)
    message = str(info.value)
    assert message.startswith(f"Cannot read data {path}: ")
    assert words in message, message
    assert "\n" not in message


def test_a_zip_bomb_is_refused_by_its_declared_size(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", npy(np.zeros(MAX_BYTES // 8 + 16)))
        archive.writestr("y.npy", npy(np.zeros(3)))
    assert path.stat().st_size < MAX_BYTES // 100
    with pytest.raises(DataFileError, match=r"array x has [0-9,]+ bytes; at most"):
        load_data(path)


def test_special_and_missing_files(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # opening it for reading would block forever
    cases = {
        fifo: "a named pipe (FIFO), not a regular file",
        Path("/dev/zero"): "a character device",
        tmp_path: "a folder",
        tmp_path / "missing.csv": "no such file or directory",
    }
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:
        handle.truncate(MAX_BYTES + 10)
    cases[big] = f"at least {MAX_BYTES + 1:,} bytes"
    for path, words in cases.items():
        with pytest.raises(DataFileError) as info:
            load_data(path)
        assert words in str(info.value) and str(path) in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.csv"
    path.write_text("1,2\n3,4\n")
    path.chmod(0)
    with pytest.raises(DataFileError, match="permission denied"):
        load_data(path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".npy", ".npz"]))
def test_any_bytes_give_data_or_one_data_file_error(
    tmp_path: Path, raw: bytes, suffix: str
) -> None:
    path = tmp_path / f"any{suffix}"
    path.write_bytes(raw)
    try:
        points, y = load_data(path)
    except DataFileError as error:
        assert "\n" not in str(error)
    else:
        assert len(points) == len(y) >= 2


# --- the command line ---------------------------------------------------------------------------


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    "command", [["report"], ["curves"], ["sweep", "jitter"], ["gui"], ["script"]]
)
def test_every_command_reads_data_and_refuses_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"x,y\n1,2\n3,4\n5,abc\n")
    status, err = run([*command, "--data", str(path)], capsys)
    assert status == 2
    assert err == f"gradviz: error: Cannot read data {path}: line 4: 'abc' is not a number\n"


def test_screenshot_reads_data_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, err = run(["screenshot", str(tmp_path / "s.png"), "--data", "/dev/zero"], capsys)
    assert status == 2 and "character device" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--n", "40"], "--data: --n cannot be given with it"),
        (["--seed", "3", "--mean", "0"], "--data: --seed, --mean cannot be given with it"),
        (["--domain", "-1", "1"], "--data: --domain cannot be given with it"),
        (["--alpha", "2"], "alpha: 2 is not allowed; alpha must be left unset"),
        (["--kernel", "matern"], "kernel: 'matern' is not allowed"),
        (["--kernel", "periodic", "--period", "0"], "period: 0 is not allowed"),
        (["--signal-variance", "-1"], "signal_variance: -1 is not allowed"),
    ],
)
def test_options_that_do_not_apply_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: str
) -> None:
    files = write_all(tmp_path)
    status, err = run(["report", "--data", str(files["d.csv"]), *extra], capsys)
    assert status == 2
    assert err.startswith("gradviz: error: ") and words in err and err.count("\n") == 1


def test_script_embeds_the_data_bit_for_bit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The program carries the file's x and y as float.hex (tests/test_cli_script.py runs
    such a program against report); it never names or reads the file."""
    path = write_all(tmp_path)["d.npz"]
    status = main(["script", "--data", str(path), "--budget", "2"])
    source = capsys.readouterr().out
    assert status == 0
    with np.load(path) as arrays:
        xs, ys = arrays["x"], arrays["y"]
    for values in (xs, ys):
        assert all(float(v).hex() in source for v in values)
    assert str(path) not in source.split('"""', 2)[2]
