"""``gradviz screenshot`` end to end, in subprocesses without a display.

The environment has no DISPLAY, WAYLAND_DISPLAY or QT_QPA_PLATFORM, or (the "window" render)
points at an X server that does not exist: the command must choose Qt's offscreen platform
itself either way. The renders that need TensorFlow start together
once per module, so their start-ups overlap; bad input must be rejected before Qt or
TensorFlow load (well under a second here), with exit status 2, one line on stderr and
nothing written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtGui import QImage

SMALL = ["--n", "40", "--jitter", "1e-6", "--solver", "cholesky"]
RENDER_TIMEOUT_S = 240
QUICK_S = 5.0  # bad input: Python and argparse only (measured ~0.2 s)
HEADLESS_UNSET = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
SVG = "{http://www.w3.org/2000/svg}"

# name -> (output file, extra arguments): the renders of the module fixture
RENDERS: dict[str, tuple[str, list[str]]] = {
    # the smallest size the command allows; waits for the measured advice too
    "window": ("OUT.png", ["--size", "1200x700"]),
    "plots_svg": ("OUT.svg", ["--what", "plots", "--size", "1200x760", "--no-advice"]),
    # an LML quantity: the curves over theta are a new factorization per theta
    "lml_svg": (
        "OUT.svg",
        ["--what", "plots", "--quantity", "lml-lengthscale", "--size", "1200x760", "--no-advice"],
    ),
}


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    folder: Path


# name -> environment added to headless_env(): before this was set aside, Qt aborted (134)
UNREACHABLE_DISPLAY = {"window": {"DISPLAY": ":97", "QT_QPA_PLATFORM": "xcb"}}


def headless_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in HEADLESS_UNSET}
    env["PYTHONUNBUFFERED"] = "1"
    return {**env, **extra}


def command(out: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "gradviz", "screenshot", out, *args]


def run(folder: Path, out: str, *args: str, timeout: float = RENDER_TIMEOUT_S) -> Run:
    started = time.monotonic()
    done = subprocess.run(
        command(out, *args),
        cwd=folder,
        env=headless_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started, folder)


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """Every render of RENDERS, started at once, each in its own empty folder."""
    started = time.monotonic()
    processes = {}
    for name, (out, args) in RENDERS.items():
        folder = tmp_path_factory.mktemp(name)
        processes[name] = (
            folder,
            subprocess.Popen(
                command(out, *SMALL, *args),
                cwd=folder,
                env=headless_env(**UNREACHABLE_DISPLAY.get(name, {})),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
    results = {}
    try:
        for name, (folder, process) in processes.items():
            remaining = max(1.0, RENDER_TIMEOUT_S - (time.monotonic() - started))
            stdout, stderr = process.communicate(timeout=remaining)
            seconds = time.monotonic() - started
            results[name] = Run(process.returncode, stdout, stderr, seconds, folder)
    finally:
        for _, process in processes.values():
            if process.poll() is None:
                process.kill()
                process.communicate()
    yield results


def distinct_colors(image: QImage) -> int:
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(rgb.constBits().asstring(rgb.sizeInBytes()), dtype=np.uint32)
    return int(np.unique(raw).size)


def one_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, text
    return lines[0]


# ----------------------------------------------------------------- renders
@pytest.mark.timeout(RENDER_TIMEOUT_S + 30)
def test_window_png_at_the_smallest_size_with_an_unreachable_display(
    renders: dict[str, Run],
) -> None:
    result = renders["window"]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert one_line(result.stdout) == "OUT.png"
    assert os.listdir(result.folder) == ["OUT.png"]  # no temporary file left
    image = QImage(str(result.folder / "OUT.png"))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1200, 700)
    assert distinct_colors(image) > 100


@pytest.mark.timeout(RENDER_TIMEOUT_S + 30)
def test_plots_svg_parses(renders: dict[str, Run]) -> None:
    result = renders["plots_svg"]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert one_line(result.stdout) == "OUT.svg"
    assert os.listdir(result.folder) == ["OUT.svg"]
    root = ET.parse(result.folder / "OUT.svg").getroot()
    assert root.tag == f"{SVG}svg"
    assert len(root.findall(f".//{SVG}path")) > 10
    texts = " ".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))
    for title in ("Data and posterior mean", "Derivative", "Precision"):
        assert title in texts


@pytest.mark.timeout(RENDER_TIMEOUT_S + 30)
def test_an_lml_quantity_plots_over_theta_in_svg(renders: dict[str, Run]) -> None:
    result = renders["lml_svg"]
    assert result.returncode == 0, result.stderr
    assert one_line(result.stdout) == "OUT.svg"
    root = ET.parse(result.folder / "OUT.svg").getroot()
    texts = " ".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))
    for words in (
        "Log marginal likelihood LML(l)",
        "Derivative d LML/dl",
        "length scale l (log scale)",
        "LML float32",
        "l = 1.5",  # the marker's label: theta itself
    ):
        assert words in texts, words
    assert "data y" not in texts  # y over x has no place on a likelihood over theta


# -------------------------------------------------------------- bad input
def test_existing_out_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "OUT.png"
    target.write_bytes(b"keep me")
    result = run(tmp_path, "OUT.png", *SMALL, "--size", "1200x760", timeout=60)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "OUT.png" in line and "--force" in line
    assert result.stdout == ""
    assert result.seconds < QUICK_S
    assert target.read_bytes() == b"keep me"
    assert os.listdir(tmp_path) == ["OUT.png"]


@pytest.mark.parametrize(
    "size_args",
    [
        ["--size", "0x0"],
        ["--size", "abcx"],
        ["--size", "100000x100000"],
        ["--size=-5x10"],
        ["--size", "-5x10"],  # argparse reads "-5x10" as an option: --size has no value
        ["--size", "900"],
        ["--size", "900x600x2"],
        ["--size", "319x600"],
        ["--size", "900x4321"],
    ],
    ids=" ".join,
)
def test_bad_size_is_refused_at_once(tmp_path: Path, size_args: list[str]) -> None:
    result = run(tmp_path, "OUT.png", *SMALL, *size_args, timeout=60)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("gradviz: error:") and "size" in line
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.seconds < QUICK_S
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("out", "args", "named"),
    [
        ("OUT.svg", ["--what", "window"], "OUT"),
        ("OUT.jpg", ["--what", "plots"], "OUT"),
        ("OUT", [], "OUT"),
        ("OUT.png", ["--what", "everything"], "what"),
        ("OUT.png", ["--n", "1"], "n"),
    ],
)
def test_bad_output_or_problem_is_refused_at_once(
    tmp_path: Path, out: str, args: list[str], named: str
) -> None:
    result = run(tmp_path, out, *args, timeout=60)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("gradviz: error:") and named in line
    assert result.seconds < QUICK_S
    assert os.listdir(tmp_path) == []
