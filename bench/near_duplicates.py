"""Near-duplicate benchmark: precision and recall of the perceptual hash on pairs made from real photographs.

Usage: ``python -m bench.near_duplicates [--compare] [--limit N] [--verbose]`` (``make bench`` runs it through
``python -m bench``).

Corpus: every picture found at run time under the Debian wallpaper directories (``/usr/share/backgrounds``,
``/usr/share/wallpapers``), installed or extracted by ``python -m bench.labeler_photos --fetch`` under its
cache root, and the photos of the labeler manifest found elsewhere (scikit-image's data, opencv-doc, ...).
Nothing is downloaded here and no image is committed.

Wallpaper packages ship one picture several times: at several resolutions (``Elephants_3840x2160.jpg``,
Plasma's ``<Name>/contents/images/<W>x<H>.jpg``), as a preview (``contents/screenshot.jpg``), in light and
dark versions (GNOME's ``adwaita-l`` / ``adwaita-d``, Plasma's ``images_dark/``). Files are grouped into
pictures by name (``family``): the Plasma wallpaper's directory, else the file name without its author,
resolution and light/dark suffix, whatever the package, and the files of one directory whose names of
three words or more differ in one word (MATE's ``Ubuntu-Mate-Cold-no-logo`` / ``-Warm-`` / ``-Radioactive-``,
one picture in three colours). One file per picture is used, so no two versions of one picture are
counted as different photos; a name shared by two unrelated pictures only drops a few true negatives.
Pictures of one colour at the hash's scale (transparent overlays flattened onto white, flat tiles) are
left out and named: any hash sees them all as one blank picture (``featureless``).

Each photo, scaled to at most ``BASE_EDGE`` pixels, is the reference upload (JPEG q``UPLOAD_QUALITY``);
``VARIANTS`` are the copies made of it (resized, re-encoded, cropped, stored turned with an EXIF
orientation). Every upload goes through the pipeline's own functions as the steps run them: ``compress``
writes the compressed rendition, and ``derive`` on that rendition (the thumbnail step's input, decoded
at reduced size) returns the hash. Pairs: a reference and each of its copies are positives (recall per
transformation); over the whole library of references and copies, two images of one photo are a
positive pair and two images of different photos a negative one (precision and recall per threshold).

``--compare`` also hashes the same pixels with the candidates the hash was chosen from (``CANDIDATES``:
the 8x8 DCT square with and without DC, a dHash, half our pHash + half a dHash) and prints their tables.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from unittest import mock

import numpy as np
from PIL import Image

from bench.labeler_photos import DEFAULT_ROOT, load_manifest, locate
from lambdas import imaging
from lambdas.domain.duplicates import PHASH_BANDS
from lambdas.imaging import colour, phash
from lambdas.imaging.decode import ORIENTATION_TAG, TRANSPOSE
from lambdas.imaging.resize import fit

SEARCHED = (Path("/usr/share/backgrounds"), Path("/usr/share/wallpapers"))
"""Debian's wallpaper directories, searched on this machine and under the extracted packages' root."""
EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
MIN_EDGE = 256
"""Files whose longest side is shorter are icons or previews, not photos."""
BASE_EDGE = 1024
"""Longest side of a reference. The pipeline hashes its 256 px thumbnail, so a larger reference would
change little but the time (it would add the JPEG DCT scaling of the thumbnail step's decode, not
measured here); 1024 px keeps the benchmark near two minutes on one core."""
UPLOAD_QUALITY = 92
"""JPEG quality of the reference upload and of the copies not re-encoded on purpose (a camera's)."""
THRESHOLDS = (0, 2, 4, 6, 8, 10, 12, 14, 16, 20)
OPTIONS = imaging.ImagingOptions()

_RESOLUTION = re.compile(r"[-_]?\d{3,5}x\d{3,5}")
_LIGHT_DARK = re.compile(r"[-_](l|d|light|dark|day|night)$")


# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True, slots=True)
class Picture:
    """One image file found on this machine, and the picture (``family``) it is a version of."""

    path: Path
    family: str
    kind: str = ""
    """The labeler manifest's kind of the photo (``scene``, ``abstract``...), "" when not listed."""

    @property
    def name(self) -> str:
        parts = self.path.parts
        if "contents" in parts:
            return parts[parts.index("contents") - 1]
        return self.path.stem


def family(path: Path) -> str:
    """The picture ``path`` is a version of: Plasma's wallpaper directory (``<Name>/contents/...``), else the
    file's name without its author (``_by_...``), resolution (``_3840x2160``) and light/dark suffix."""
    parts = path.parts
    if "contents" in parts:
        return re.sub(r"[^a-z0-9]", "", parts[parts.index("contents") - 1].lower())
    stem = path.stem.lower().split("_by_")[0]
    stem = _LIGHT_DARK.sub("", _RESOLUTION.sub("", stem))
    return re.sub(r"[^a-z0-9]", "", stem)


def _words(path: Path) -> list[str]:
    return [w for w in re.split(r"[-_ ]+", path.stem.lower().split("_by_")[0]) if w]


def families_of(paths: list[Path]) -> dict[Path, str]:
    """The picture of each file: ``family``, and one family for the files of one directory whose names of
    three words or more differ in one word only (MATE's ``Ubuntu-Mate-Cold-no-logo`` and ``-Warm-``)."""
    parent = {family(p): family(p) for p in paths}

    def root(name: str) -> str:
        while parent[name] != name:
            name = parent[name]
        return name

    by_directory: dict[Path, list[Path]] = {}
    for path in paths:
        by_directory.setdefault(path.parent, []).append(path)
    for members in by_directory.values():
        for n, a in enumerate(members):
            for b in members[n + 1 :]:
                wa, wb = _words(a), _words(b)
                if len(wa) == len(wb) >= 3 and sum(x != y for x, y in zip(wa, wb, strict=True)) == 1:
                    first, second = sorted((root(family(a)), root(family(b))))
                    parent[second] = first
    return {path: root(family(path)) for path in paths}


def _roots() -> list[Path]:
    roots = [Path("/")]
    if DEFAULT_ROOT.is_dir():
        roots.extend(sorted(p for p in DEFAULT_ROOT.iterdir() if p.is_dir()))
    return roots


def find_pictures() -> list[Picture]:
    """Every picture file of the searched directories and of the labeler manifest found on this machine."""
    kinds: dict[str, str] = {}
    paths: set[Path] = set()
    for photo in load_manifest():
        found = locate(photo)
        if found is not None:
            paths.add(found)
            kinds[str(found)] = photo.kind
    for root in _roots():
        for directory in SEARCHED:
            top = root / directory.relative_to("/")
            if top.is_dir():
                paths.update(p for p in top.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    large = []
    for path in sorted(paths):
        try:
            with Image.open(path) as image:
                size = image.size
        except (OSError, ValueError, SyntaxError):
            continue
        if max(size) >= MIN_EDGE:
            large.append(path)
    names = families_of(large)
    return [Picture(path, names[path], kinds.get(str(path), "")) for path in large]


def representatives(pictures: list[Picture]) -> tuple[list[Picture], dict[str, list[Picture]]]:
    """One file per picture (the smallest at least ``BASE_EDGE`` long, else the largest) and every family."""
    families: dict[str, list[Picture]] = {}
    for picture in pictures:
        families.setdefault(picture.family, []).append(picture)
    chosen = []
    for name in sorted(families):
        members = families[name]
        pixels = {m: _pixels(m.path) for m in members}
        big = [m for m in members if max(_size(m.path)) >= BASE_EDGE]
        pick = min(big, key=pixels.__getitem__) if big else max(members, key=pixels.__getitem__)
        kind = next((m.kind for m in members if m.kind), "")
        chosen.append(Picture(pick.path, name, kind))
    return chosen, families


def _size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def _pixels(path: Path) -> int:
    width, height = _size(path)
    return width * height


def base_image(path: Path) -> Image.Image:
    """The photo at ``path`` upright, opaque RGB, its longest side at most ``BASE_EDGE``."""
    with Image.open(path) as image:
        if image.format == "JPEG":
            image.draft("RGB", (BASE_EDGE, BASE_EDGE))
        image.load()
        orientation = image.getexif().get(ORIENTATION_TAG)
        upright = image.transpose(TRANSPOSE[orientation]) if orientation in TRANSPOSE else image
        display = colour.flatten(colour.to_display(upright))
        rgb = display if display.mode == "RGB" else display.convert("RGB")
        return fit(rgb, BASE_EDGE)


# --------------------------------------------------------------------------- copies


def _jpeg(image: Image.Image, quality: int = UPLOAD_QUALITY, exif: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, exif=exif)
    return buffer.getvalue()


def _scaled(image: Image.Image, factor: float) -> Image.Image:
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _crop_one_side(image: Image.Image, index: int) -> Image.Image:
    """5% off one side: left, top, right or bottom in turn (by photo)."""
    dx, dy = round(image.width * 0.05), round(image.height * 0.05)
    boxes = (
        (dx, 0, image.width, image.height),
        (0, dy, image.width, image.height),
        (0, 0, image.width - dx, image.height),
        (0, 0, image.width, image.height - dy),
    )
    return image.crop(boxes[index % 4])


def _crop_all_sides(image: Image.Image) -> Image.Image:
    dx, dy = round(image.width * 0.05), round(image.height * 0.05)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


# The transpose that stores an upright image so that orientation N shows it upright again (TRANSPOSE's inverse).
_STORED = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def _exif_oriented(image: Image.Image, index: int) -> bytes:
    """The photo stored turned (or mirrored) with the EXIF orientation (2-8, by photo) that shows it upright."""
    orientation = 2 + index % 7
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    return _jpeg(image.transpose(_STORED[orientation]), exif=exif.tobytes())


VARIANTS: dict[str, Callable[[Image.Image, int], bytes]] = {
    "resize 50%": lambda image, _: _jpeg(_scaled(image, 0.5)),
    "resize 25%": lambda image, _: _jpeg(_scaled(image, 0.25)),
    "JPEG q95": lambda image, _: _jpeg(image, 95),
    "JPEG q75": lambda image, _: _jpeg(image, 75),
    "JPEG q50": lambda image, _: _jpeg(image, 50),
    "JPEG q30": lambda image, _: _jpeg(image, 30),
    "crop 5% one side": lambda image, index: _jpeg(_crop_one_side(image, index)),
    "crop 5% all sides": lambda image, _: _jpeg(_crop_all_sides(image)),
    "resize 50% + q50": lambda image, _: _jpeg(_scaled(image, 0.5), 50),
    "EXIF orientation": _exif_oriented,
}
"""Copies of a photo a user may upload again, each made from the reference's pixels."""
REFERENCE = "reference"


# --------------------------------------------------------------------------- hashing


def _dct(grey: np.ndarray, count: int) -> np.ndarray:
    """The DCT-II coefficients of the ``count`` lowest frequencies in each direction of a square ``grey``."""
    side = grey.shape[0]
    basis = np.cos(np.pi * (2 * np.arange(side)[None, :] + 1) * np.arange(count)[:, None] / (2 * side))
    return np.round(basis @ grey @ basis.T, 6)


def _bits_to_int(bits: np.ndarray) -> int:
    value = 0
    for bit in bits.ravel():
        value = (value << 1) | int(bit)
    return value


def _grey(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    small = colour.flatten(image.resize(size, Image.Resampling.BOX))
    return np.asarray(small.convert("L"), dtype=np.float64)


def _square(image: Image.Image, first: int) -> int:
    """pHash of the 8x8 square of frequencies ``first``..``first + 7`` (0: imagehash's, DC in; 1: the
    DC row and column left out), above their median."""
    low = _dct(_grey(image, (32, 32)), first + 8)[first:, first:]
    return _bits_to_int(low > np.median(low))


def _dhash_bits(image: Image.Image, rows: int) -> int:
    grey = _grey(image, (9, rows))
    return _bits_to_int(grey[:, 1:] > grey[:, :-1])


def _combined(image: Image.Image) -> int:
    """32 bits of our pHash (its 32 lowest frequencies) then a 32-bit dHash (9x4 grey)."""
    coefficients = _dct(_grey(image, (32, 32)), 11)
    picked = np.array([coefficients[u, v] for u, v in phash.FREQUENCIES[:32]])
    return (_bits_to_int(picked > np.median(picked)) << 32) | _dhash_bits(image, 4)


CANDIDATES: dict[str, Callable[[Image.Image], int]] = {
    "pHash 8x8 square, DC in": lambda image: _square(image, 0),
    "pHash 8x8 square, DC row/column out": lambda image: _square(image, 1),
    "dHash 9x8": lambda image: _dhash_bits(image, 8),
    "pHash 32 + dHash 32": _combined,
}
"""The hashes ``phash.perceptual_hash`` was chosen over, computed from the same pixels (``--compare``)."""
OURS = "pHash 64 lowest frequencies (ours)"


def featureless(image: Image.Image) -> bool:
    """Whether ``image`` is (nearly) one colour at the hash's scale: 32x32 grey varying by under 2 levels
    (a transparent overlay flattened onto white, a flat tile). Every such image is one blank picture to
    any hash; a photo library rarely holds one, a wallpaper package several."""
    return bool(_grey(image, (32, 32)).std() < 2)


@dataclass
class Hashed:
    """The hashes of one upload: ours, and with ``--compare`` every candidate's of the same pixels."""

    photo: int
    variant: str
    ours: str
    candidates: dict[str, int]
    hash_ms: float
    """Time of ``phash.perceptual_hash`` inside ``derive``."""
    source: tuple[int, int]
    """Size of the image the pipeline hashed."""


@dataclass
class _Seen:
    ms: float = 0.0
    size: tuple[int, int] = (0, 0)
    candidates: dict[str, int] | None = None


@contextmanager
def _recording(compare: bool) -> Iterator[_Seen]:
    """While active, every hash the pipeline computes is timed, and with ``compare`` each candidate's hash of
    the same input is recorded too."""
    seen = _Seen()
    real = phash.perceptual_hash

    def record(image: Image.Image) -> str:
        started = time.perf_counter()
        value = real(image)
        seen.ms, seen.size = (time.perf_counter() - started) * 1000, image.size
        seen.candidates = {name: hasher(image) for name, hasher in CANDIDATES.items()} if compare else {}
        return value

    with mock.patch.object(phash, "perceptual_hash", record):
        yield seen


def pipeline_hash(upload: bytes) -> str:
    """What the pipeline stores for ``upload``: compress it, then derive from the compressed rendition."""
    compressed = imaging.compress(upload, OPTIONS).rendition("compressed")
    derived = imaging.derive(compressed.data, OPTIONS)
    assert derived.phash is not None
    return derived.phash


def hash_corpus(pictures: list[Picture], *, compare: bool) -> tuple[list[Picture], list[Picture], list[Hashed]]:
    """(photos hashed, featureless pictures left out, the hash of every upload of each photo)."""
    photos: list[Picture] = []
    blank: list[Picture] = []
    hashed = []
    with _recording(compare) as seen:
        for picture in pictures:
            base = base_image(picture.path)
            if featureless(base):
                blank.append(picture)
                continue
            index = len(photos)
            photos.append(picture)
            uploads = {REFERENCE: _jpeg(base), **{name: make(base, index) for name, make in VARIANTS.items()}}
            for variant, upload in uploads.items():
                ours = pipeline_hash(upload)
                hashed.append(Hashed(index, variant, ours, dict(seen.candidates or {}), seen.ms, seen.size))
    return photos, blank, hashed


# --------------------------------------------------------------------------- figures


def popcount(values: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 of ``values``."""
    return np.unpackbits(values.view(np.uint8).reshape(*values.shape, 8), axis=-1).sum(axis=-1)


@dataclass(frozen=True)
class Figures:
    """Distances of the positive and negative pairs of one hash over the corpus."""

    per_variant: dict[str, np.ndarray]
    """Distance from each photo's reference to its copy, per transformation."""
    positives: np.ndarray
    """Distances of every pair of images of one photo (references and copies)."""
    negatives: np.ndarray
    """Distances of every pair of images of different photos."""
    reference_negatives: np.ndarray
    """Distances of every pair of references of different photos (photo index pairs in ``negative_pairs``)."""
    negative_pairs: list[tuple[int, int]]
    positives_banded: np.ndarray
    """Whether each pair of ``positives`` agrees on a whole band (``duplicates.phash_bands``): found by the
    stores' index lookup."""
    negatives_banded: np.ndarray
    """Whether each pair of ``negatives`` agrees on a whole band: an index entry read, then dropped by its
    distance."""
    per_variant_banded: dict[str, np.ndarray]


_BAND_BITS = phash.HASH_BITS // PHASH_BANDS
_BAND_MASKS = np.array(
    [((1 << _BAND_BITS) - 1) << (phash.HASH_BITS - _BAND_BITS * (band + 1)) for band in range(PHASH_BANDS)],
    dtype=np.uint64,
)


def share_a_band(xor: np.ndarray) -> np.ndarray:
    """Whether the two hashes whose XOR is each of ``xor`` agree on one of the ``PHASH_BANDS`` bands at least."""
    return ((xor[..., None] & _BAND_MASKS) == 0).any(axis=-1)


def figures(hashed: list[Hashed], value: Callable[[Hashed], int]) -> Figures:
    photos = np.array([h.photo for h in hashed])
    values = np.array([value(h) for h in hashed], dtype=np.uint64)
    upper = np.triu_indices(len(hashed), k=1)
    distances = np.empty(len(upper[0]), dtype=np.int64)
    banded = np.empty(len(upper[0]), dtype=bool)
    # Row blocks keep the XOR matrix small (a few MB) whatever the corpus.
    start = 0
    for row in range(len(hashed)):
        columns = upper[1][start : start + len(hashed) - row - 1]
        xor = values[row] ^ values[columns]
        distances[start : start + len(columns)] = popcount(xor)
        banded[start : start + len(columns)] = share_a_band(xor)
        start += len(columns)
    same = photos[upper[0]] == photos[upper[1]]
    references = [i for i, h in enumerate(hashed) if h.variant == REFERENCE]
    by_photo = {hashed[i].photo: i for i in references}
    per_variant: dict[str, list[int]] = {}
    per_variant_banded: dict[str, list[bool]] = {}
    for h, v in zip(hashed, values, strict=True):
        if h.variant != REFERENCE:
            xor = np.array([values[by_photo[h.photo]] ^ v])
            per_variant.setdefault(h.variant, []).append(int(popcount(xor)[0]))
            per_variant_banded.setdefault(h.variant, []).append(bool(share_a_band(xor)[0]))
    pairs = [(a, b) for n, a in enumerate(sorted(by_photo)) for b in sorted(by_photo)[n + 1 :]]
    reference_values = {p: values[i] for p, i in by_photo.items()}
    reference_distances = np.array(
        [int(popcount(np.array([reference_values[a] ^ reference_values[b]]))[0]) for a, b in pairs], dtype=np.int64
    )
    return Figures(
        {k: np.array(v) for k, v in per_variant.items()},
        distances[same],
        distances[~same],
        reference_distances,
        pairs,
        banded[same],
        banded[~same],
        {k: np.array(v) for k, v in per_variant_banded.items()},
    )


def threshold_table(result: Figures, chosen: int) -> None:
    print(f"  {'T':>3} {'TP':>7} {'FN':>6} {'FP':>6} {'precision':>10} {'recall':>7}   FP among references")
    for threshold in sorted({*THRESHOLDS, chosen}):
        tp = int((result.positives <= threshold).sum())
        fn = len(result.positives) - tp
        fp = int((result.negatives <= threshold).sum())
        precision = tp / (tp + fp) if tp + fp else 1.0
        fp_references = int((result.reference_negatives <= threshold).sum())
        mark = "  <- NEAR_DUPLICATE_DISTANCE" if threshold == chosen else ""
        print(
            f"  {threshold:3d} {tp:7d} {fn:6d} {fp:6d} {precision:10.4f} {tp / len(result.positives):7.4f}"
            f"   {fp_references:3d} of {len(result.reference_negatives)}{mark}"
        )


def variant_table(result: Figures, threshold: int) -> None:
    print(f"  {'copy':20s} {'recall':>7} {'median':>7} {'p95':>5} {'max':>5}   {'found by the bands':>18}")
    for name, distances in result.per_variant.items():
        found = (distances <= threshold) & result.per_variant_banded[name]
        print(
            f"  {name:20s} {(distances <= threshold).mean():7.3f} {np.median(distances):7.1f}"
            f" {np.percentile(distances, 95):5.0f} {distances.max():5d}   {found.mean():18.3f}"
        )


def band_lookup(result: Figures, threshold: int) -> str:
    """What the stores' band index finds of the pairs within ``threshold``, and what it reads in vain."""
    near = result.positives <= threshold
    found = near & result.positives_banded
    return (
        f"index lookup by {PHASH_BANDS} bands of {_BAND_BITS} bits (lambdas.domain.duplicates): finds"
        f" {found.sum()} of the {near.sum()} pairs of one photo within {threshold} bits"
        f" ({found.sum() / max(1, near.sum()):.4f}; every pair within {PHASH_BANDS - 1} bits is found); reads"
        f" {result.negatives_banded.mean():.4f} of the images of other photos (entries dropped by their distance)"
    )


def closest_negatives(result: Figures, photos: list[Picture], count: int) -> None:
    order = np.argsort(result.reference_negatives, kind="stable")[:count]
    for position in order:
        a, b = result.negative_pairs[position]
        label = " / ".join(f"{photos[i].name}{f' ({photos[i].kind})' if photos[i].kind else ''}" for i in (a, b))
        print(f"  {result.reference_negatives[position]:3d}  {label}")


def _candidate(name: str, hashed: Hashed) -> int:
    return hashed.candidates[name]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="store_true", help="also measure the candidate hashes")
    parser.add_argument("--limit", type=int, help="use the first N photos only")
    parser.add_argument("--verbose", action="store_true", help="list the pictures and the files grouped into each")
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    started = time.monotonic()
    pictures = find_pictures()
    photos, families = representatives(pictures)
    if args.limit:
        photos = photos[: args.limit]
    grouped = {name: members for name, members in families.items() if len(members) > 1}
    print(
        f"{len(pictures)} files of {len(families)} pictures found; {sum(len(m) - 1 for m in grouped.values())} files"
        f" are other versions of {len(grouped)} pictures (resolutions, previews, light/dark) and are left out,"
        " so that no two versions of one picture count as different photos"
    )
    if args.verbose:
        for name, members in sorted(grouped.items()):
            print(f"  {name}: {', '.join(str(m.path) for m in members)}")
    photos, blank, hashed = hash_corpus(photos, compare=args.compare)
    if blank:
        print(f"{len(blank)} featureless pictures left out (one colour at 32x32): {', '.join(p.name for p in blank)}")
    kinds = Counter(p.kind or "unlisted" for p in photos)
    print(f"{len(photos)} photos used (manifest kinds: {', '.join(f'{k} {n}' for k, n in kinds.most_common())})")
    if len(photos) < 2:
        print("too few photos: install lomiri-wallpapers or run python -m bench.labeler_photos --fetch")
        return 0
    per_upload = [h.hash_ms for h in hashed]
    sources = Counter(max(h.source) for h in hashed)
    print(
        f"{len(hashed)} uploads hashed through compress + derive ({len(VARIANTS)} copies a photo) in"
        f" {time.monotonic() - started:.0f} s; hash time per image: median {statistics.median(per_upload):.2f} ms,"
        f" p95 {np.percentile(per_upload, 95):.2f} ms, hashed from a {sources.most_common(1)[0][0]} px thumbnail"
        f" ({sources.most_common(1)[0][1]} of {len(hashed)})"
    )
    hashes: dict[str, Callable[[Hashed], int]] = {OURS: lambda h: int(h.ours, 16)}
    if args.compare:
        hashes.update({name: partial(_candidate, name) for name in CANDIDATES})
    summary = ""
    for name, value in hashes.items():
        result = figures(hashed, value)
        if name == OURS:
            tp = int((result.positives <= phash.NEAR_DUPLICATE_DISTANCE).sum())
            fp = int((result.negatives <= phash.NEAR_DUPLICATE_DISTANCE).sum())
            found = int(((result.positives <= phash.NEAR_DUPLICATE_DISTANCE) & result.positives_banded).sum())
            summary = (
                f"at NEAR_DUPLICATE_DISTANCE = {phash.NEAR_DUPLICATE_DISTANCE}: precision"
                f" {tp / (tp + fp) if tp + fp else 1.0:.4f}, recall {tp / len(result.positives):.4f},"
                f" recall through the band index {found / len(result.positives):.4f} ({len(photos)} photos,"
                f" {len(hashed)} images, {len(result.positives)} positive and {len(result.negatives)} negative pairs)"
            )
        print(
            f"\n{name}: {len(result.positives)} positive pairs (images of one photo), {len(result.negatives)} negative"
            f" pairs (images of different photos), of which {len(result.reference_negatives)} between references"
        )
        threshold_table(result, phash.NEAR_DUPLICATE_DISTANCE)
        print(f"recall per copy at T = {phash.NEAR_DUPLICATE_DISTANCE} (reference vs copy):")
        variant_table(result, phash.NEAR_DUPLICATE_DISTANCE)
        print(band_lookup(result, phash.NEAR_DUPLICATE_DISTANCE))
        print("closest pairs of different photos (references):")
        closest_negatives(result, photos, 8)
    print(f"\n{summary}\ndone in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
