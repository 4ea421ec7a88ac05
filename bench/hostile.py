"""Hostile inputs at the limits of the image core: peak RSS and wall time of each pipeline step.

Each case is generated here (nothing large is committed): the worst input of a class that is still
accepted (at ``max_pixels`` or at the decode-memory budget of its mode) and the inputs that must be
refused before anything is decoded. Every step runs in its own fresh process, as a Lambda function or a
worker would run it, and reports its peak RSS (``VmHWM``, ``bench.memory``) and wall time:

- ``compress``: ``imaging.compress`` on the original (the compress step);
- ``derive``: ``imaging.derive`` on the input the thumbnail step chooses (the compressed rendition when
  it is a JPEG or the original is not one, else the original).

``python -m bench.hostile`` prints the table; ``tests/unit/imaging/test_resource_bounds.py`` asserts
each case's outcome and its bounds.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

MEMORY_BUDGET_MB = 512
"""Peak RSS a step may reach for any accepted input (the smallest Lambda size of the image steps)."""
WALL_BUDGET_S = 60.0
"""Wall time a step may take for any input on this class of machine (the compress Lambda has 120 s)."""

_OPTIONS_DEFAULT_PIXELS = 100_000_000
_BUDGET = _OPTIONS_DEFAULT_PIXELS * 44 // 10  # ImagingOptions().decode_budget, without importing Pillow here
_INPUT_RESERVE = 16_000_000  # room left in the budget for the generated file's own bytes


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    expected: str
    """``"ready"`` (every step succeeds) or the error code the compress step must raise."""
    make: Callable[[Path], None]


def _side(bytes_per_pixel: int, *, cap: int = 9999) -> int:
    """The side of the largest square image of this many bytes per pixel that fits the decode budget."""
    return min(cap, math.isqrt((_BUDGET - _INPUT_RESERVE) // bytes_per_pixel))


def _stripes(side: int, channels: int, dtype: str, value: float) -> object:
    import numpy as np

    shape = (side, side) if channels == 1 else (side, side, channels)
    array = np.zeros(shape, dtype)
    array[::97] = value
    array[:, ::89] = value
    return array


def _save(array: object, mode: str | None, path: Path, fmt: str, **params: object) -> None:
    from PIL import Image

    image = Image.fromarray(array) if mode is None else Image.fromarray(array, mode)  # type: ignore[arg-type]
    image.save(path, fmt, **params)


def _repeated_scans(path: Path) -> None:
    """A 9999x9999 progressive JPEG of one colour whose last scan is repeated 1,700 times (~1 MB)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (9999, 9999), (120, 130, 140)).save(buffer, "JPEG", progressive=True, quality=90)
    data = buffer.getvalue()
    last = data.rindex(b"\xff\xda")
    end = data.rindex(b"\xff\xd9")
    path.write_bytes(data[:end] + data[last:end] * 1700 + data[end:])


def _oriented_jpeg(path: Path) -> None:
    from PIL import Image

    side = _side(8)
    image = Image.fromarray(_stripes(side, 3, "uint8", 200), "RGB")  # type: ignore[arg-type]
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(path, "JPEG", quality=80, exif=exif.tobytes())


def _palette_transparent(path: Path) -> None:
    from PIL import Image

    side = _side(8)
    image = Image.fromarray(_stripes(side, 1, "uint8", 3), "L").convert("P")  # type: ignore[arg-type]
    image.save(path, "PNG", transparency=0)


def _bomb(path: Path) -> None:
    """A valid PNG header declaring 100,000 x 100,000 pixels (the data is never read)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


CASES: tuple[Case, ...] = (
    Case(
        "jpeg-repeated-scans",
        "progressive 9999x9999, last scan repeated 1,700x",
        "Image.TooComplex",
        _repeated_scans,
    ),
    Case(
        "jpeg-progressive",
        f"{_side(7)}^2 progressive 4:2:0, 10 scans (+3 bytes a pixel of DCT coefficients)",
        "ready",
        lambda p: _save(_stripes(_side(7), 3, "uint8", 200), "RGB", p, "JPEG", quality=80, progressive=True),
    ),
    Case(
        "jpeg-progressive-100mp",
        "progressive 9999x9999 (7 bytes a pixel: over the budget)",
        "Image.TooManyPixels",
        lambda p: _save(_stripes(9999, 3, "uint8", 200), "RGB", p, "JPEG", quality=80, progressive=True),
    ),
    Case(
        "jpeg-rgb-100mp",
        "baseline 9999x9999 RGB",
        "ready",
        lambda p: _save(_stripes(9999, 3, "uint8", 200), "RGB", p, "JPEG", quality=80),
    ),
    Case("jpeg-rgb-oriented", f"{_side(8)}^2 RGB, EXIF orientation 6", "ready", _oriented_jpeg),
    Case(
        "jpeg-cmyk",
        f"{_side(8)}^2 CMYK",
        "ready",
        lambda p: _save(_stripes(_side(8), 4, "uint8", 200), "CMYK", p, "JPEG", quality=80),
    ),
    Case(
        "png-16bit-grey",
        "9999x9999 16-bit grey",
        "ready",
        lambda p: _save(_stripes(9999, 1, "uint16", 40000), None, p, "PNG"),
    ),
    Case(
        "tiff-16bit-grey",
        "9999x9999 16-bit grey, deflate",
        "ready",
        lambda p: _save(_stripes(9999, 1, "uint16", 40000), None, p, "TIFF", compression="tiff_adobe_deflate"),
    ),
    Case(
        "tiff-32bit-grey",
        f"{_side(5)}^2 32-bit integer grey, deflate",
        "ready",
        lambda p: _save(_stripes(_side(5), 1, "int32", 70000), "I", p, "TIFF", compression="tiff_adobe_deflate"),
    ),
    Case(
        "tiff-32bit-grey-over",
        "9999x9999 32-bit integer grey (5 bytes a pixel: over the budget)",
        "Image.TooManyPixels",
        lambda p: _save(_stripes(9999, 1, "int32", 70000), "I", p, "TIFF", compression="tiff_adobe_deflate"),
    ),
    Case(
        "tiff-float",
        f"{_side(5)}^2 32-bit float grey, deflate",
        "ready",
        lambda p: _save(_stripes(_side(5), 1, "float32", 0.5), "F", p, "TIFF", compression="tiff_adobe_deflate"),
    ),
    Case(
        "png-rgba",
        f"{_side(8)}^2 RGBA, half transparent",
        "ready",
        lambda p: _save(_stripes(_side(8), 4, "uint8", 128), "RGBA", p, "PNG"),
    ),
    Case("png-palette-transparent", f"{_side(8)}^2 palette with transparency", "ready", _palette_transparent),
    Case(
        "png-thin",
        "30000x40 RGB panorama",
        "ready",
        lambda p: _save(__import__("numpy").full((40, 30000, 3), 90, "uint8"), "RGB", p, "PNG"),
    ),
    Case("png-bomb", "header declares 100,000 x 100,000", "Image.TooManyPixels", _bomb),
)


@dataclass(frozen=True)
class Step:
    step: str
    outcome: str
    peak_rss_mb: float
    seconds: float


@dataclass(frozen=True)
class Measured:
    case: Case
    input_bytes: int
    steps: tuple[Step, ...]

    @property
    def outcome(self) -> str:
        failed = [step.outcome for step in self.steps if step.outcome != "ok"]
        return failed[0] if failed else "ready"


def _child(step: str, source: Path, output: Path) -> None:
    """Run one step in this (fresh) process and print its outcome, peak RSS and wall time as JSON."""
    from bench.memory import peak_rss_mb
    from lambdas import imaging

    data = source.read_bytes()
    started = time.perf_counter()
    outcome = "ok"
    try:
        if step == "compress":
            rendition = imaging.compress(data, imaging.ImagingOptions()).rendition("compressed")
            original = imaging.probe(data, imaging.ImagingOptions()).format
            # The thumbnail step's input (lambdas.steps._thumbnail_sources).
            derive_from = rendition.data if rendition.format == "jpeg" or original != "jpeg" else data
            output.write_bytes(derive_from)
        else:
            imaging.derive(data, imaging.ImagingOptions())
    except imaging.ImagingError as exc:
        outcome = exc.code
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    print(json.dumps({"outcome": outcome, "peak_rss_mb": round(peak, 1), "seconds": round(seconds, 2)}))


def _run_child(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.hostile", *args], capture_output=True, text=True, check=True, timeout=600
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(case: Case, workdir: Path) -> Measured:
    """Generate ``case`` in ``workdir`` (in a child process), then run each step in its own process."""
    source = workdir / f"{case.name}.in"
    derived_input = workdir / f"{case.name}.compressed"
    subprocess.run([sys.executable, "-m", "bench.hostile", "make", case.name, str(source)], check=True, timeout=600)
    compress = _run_child("child", "compress", str(source), str(derived_input))
    steps = [Step("compress", str(compress["outcome"]), float(compress["peak_rss_mb"]), float(compress["seconds"]))]  # type: ignore[arg-type]
    if compress["outcome"] == "ok":
        derive = _run_child("child", "derive", str(derived_input), str(workdir / f"{case.name}.unused"))
        steps.append(Step("derive", str(derive["outcome"]), float(derive["peak_rss_mb"]), float(derive["seconds"])))  # type: ignore[arg-type]
    size = source.stat().st_size
    for path in (source, derived_input):
        path.unlink(missing_ok=True)
    return Measured(case, size, tuple(steps))


def measure_all(cases: tuple[Case, ...] = CASES, *, parallel: int = 2) -> list[Measured]:
    with tempfile.TemporaryDirectory(prefix="imgmgr-hostile-") as tmp, ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda case: measure(case, Path(tmp)), cases))


def main() -> int:
    print(
        f"decode budget {_BUDGET / 1e6:.0f} MB; bounds: peak RSS < {MEMORY_BUDGET_MB} MB, wall < {WALL_BUDGET_S:.0f} s"
    )
    print(f"{'case':26} {'input':>9} {'expected':20} {'outcome':20} {'compress MB/s':>16} {'derive MB/s':>14}")
    worst = 0.0
    bad = 0
    for measured in measure_all():
        cells = {step.step: f"{step.peak_rss_mb:5.0f} / {step.seconds:5.1f}" for step in measured.steps}
        worst = max(worst, *(step.peak_rss_mb for step in measured.steps))
        ok = measured.outcome == measured.case.expected and all(
            step.peak_rss_mb < MEMORY_BUDGET_MB and step.seconds < WALL_BUDGET_S for step in measured.steps
        )
        bad += not ok
        print(
            f"{measured.case.name:26} {measured.input_bytes / 1e6:7.2f}MB {measured.case.expected:20}"
            f" {measured.outcome:20} {cells.get('compress', '-'):>16} {cells.get('derive', '-'):>14}"
            f"{'' if ok else '  <-- out of bounds'}"
        )
    print(
        f"worst peak RSS of any step: {worst:.0f} MB ({worst / MEMORY_BUDGET_MB:.2f}x the {MEMORY_BUDGET_MB} MB budget)"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "make":
        {case.name: case for case in CASES}[sys.argv[2]].make(Path(sys.argv[3]))
    elif len(sys.argv) >= 2 and sys.argv[1] == "child":
        _child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        sys.exit(main())
