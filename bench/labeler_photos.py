"""Corpus fetcher of the labeler evaluation: locates (and on request extracts) the photos of ``labeler_eval.json``.

Usage: ``python -m bench.labeler_photos [--fetch] [--root DIR]``. The manifest names, for each photo, the
package it ships in and its installed path. A photo is found at that path when the package is installed,
else under ``<root>/<package>/<path>`` where ``--fetch`` extracts it: ``apt-get download`` and
``dpkg-deb -x`` of each missing Debian package (no root needed, nothing installed, the images are never
committed). scikit-image photos are files of the installed ``skimage/data``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MANIFEST = Path(__file__).with_name("labeler_eval.json")
#: Where ``--fetch`` extracts packages that are not installed. Default: ``$XDG_CACHE_HOME/imgmgr/bench-packages``.
DEFAULT_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "imgmgr" / "bench-packages"
#: The manifest's pseudo-package for scikit-image's bundled data (a Python dependency, not a Debian package).
SKIMAGE = "scikit-image"


@dataclass(frozen=True, slots=True)
class Photo:
    """One labelled photo of the manifest."""

    package: str
    file: str
    kind: str
    expected: tuple[str, ...]
    content: str

    @property
    def name(self) -> str:
        stem = Path(self.file).stem
        # Plasma wallpapers are <Name>/contents/images/<size>.jpg: the directory names the photo.
        return Path(self.file).parts[4] if "/wallpapers/" in self.file else stem.split("_by_")[0]


def load_manifest(path: Path = MANIFEST) -> list[Photo]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        Photo(entry["package"], entry["file"], entry["kind"], tuple(entry["expected"]), entry["content"])
        for entry in data["photos"]
    ]


def locate(photo: Photo, root: Path = DEFAULT_ROOT) -> Path | None:
    """The photo on this machine (installed, or extracted under ``root``), or None."""
    if photo.package == SKIMAGE:
        import skimage

        path = Path(skimage.__file__).parent / "data" / photo.file
        return path if path.is_file() else None
    for path in (Path(photo.file), root / photo.package / photo.file.lstrip("/")):
        if path.is_file():
            return path
    return None


def fetch(photos: list[Photo], root: Path = DEFAULT_ROOT) -> list[str]:
    """Extract every Debian package with a photo not found; returns the packages that failed."""
    missing = sorted({photo.package for photo in photos if photo.package != SKIMAGE and locate(photo, root) is None})
    failed = []
    for package in missing:
        with tempfile.TemporaryDirectory(prefix="bench-deb-") as scratch:
            download = subprocess.run(["apt-get", "download", package], cwd=scratch, check=False)
            debs = sorted(Path(scratch).glob("*.deb"))
            if download.returncode != 0 or not debs:
                failed.append(package)
                continue
            target = root / package
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(target)], check=True)
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fetch", action="store_true", help="extract the Debian packages of missing photos")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help=f"extraction root (default: {DEFAULT_ROOT})")
    args = parser.parse_args(argv)
    photos = load_manifest()
    failed = fetch(photos, args.root) if args.fetch else []
    found = [photo for photo in photos if locate(photo, args.root) is not None]
    print(f"{len(found)} of {len(photos)} photos found")
    for photo in photos:
        if photo not in found:
            print(f"  missing {photo.file} ({photo.package}){'' if args.fetch else ': run with --fetch'}")
    if failed:
        print(f"could not fetch: {', '.join(failed)}")
    return 0 if len(found) == len(photos) else 1


if __name__ == "__main__":
    raise SystemExit(main())
