"""Detect the real format of an image from its magic bytes; names and declared types are never trusted."""

from __future__ import annotations

from lambdas.imaging.errors import NotAnImage, UnsupportedFormat

MIME_TYPES: dict[str, str] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "heif": "image/heif",
    "avif": "image/avif",
}
"""The formats this core decodes, with their media types."""

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})

# Image formats that are recognised but deliberately not decoded: a clear "unsupported" beats "not an image".
_UNSUPPORTED_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"8BPS", "Photoshop PSD"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\x00\x00\x02\x00", "CUR"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000 codestream"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"DDS ", "DirectDraw Surface"),
    (b"qoif", "QOI"),
    (b"\x76\x2f\x31\x01", "OpenEXR"),
    (b"#?RADIANCE", "Radiance HDR"),
    (b"%!PS-Adobe", "PostScript/EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
)


def sniff(data: bytes) -> str:
    """Return the format name (a key of ``MIME_TYPES``) of ``data`` from its first bytes.

    Raises ``NotAnImage`` for bytes that are no image and ``UnsupportedFormat`` for images in a
    format this core does not decode.
    """
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith((b"II+\x00", b"MM\x00+")):
        raise UnsupportedFormat("format: BigTIFF is not supported")
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "bmp"
    if head[4:8] == b"ftyp":
        return _sniff_isobmff(data)
    for prefix, name in _UNSUPPORTED_PREFIXES:
        if head.startswith(prefix):
            raise UnsupportedFormat(f"format: {name} images are not supported")
    if len(head) >= 3 and head[0] == 0x50 and head[1] in b"1234567" and head[2] in b" \t\r\n":
        raise UnsupportedFormat("format: Netpbm images are not supported")
    if _looks_like_svg(data):
        raise UnsupportedFormat("format: SVG images are not supported")
    raise NotAnImage("data: not an image (no known image signature)")


def _sniff_isobmff(data: bytes) -> str:
    """HEIF and AVIF share the ISO base media file format; the ``ftyp`` brands tell them apart."""
    size = int.from_bytes(data[0:4], "big")
    if size < 16 or size > len(data) or size > 4096:
        raise NotAnImage("data: malformed ISO media file type box")
    major = data[8:12]
    brands = {major} | {data[i : i + 4] for i in range(16, size - 3, 4)}
    if brands & _AVIF_BRANDS:
        return "avif"
    if brands & _HEIF_BRANDS:
        return "heif"
    raise NotAnImage(f"data: ISO media file of brand {major!r} is not an image")


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<svg") or (head.startswith((b"<?xml", b"<!doctype svg")) and b"<svg" in head)
