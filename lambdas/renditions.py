"""What every layer says about a rendition, defined once: the image core's ``Rendition`` (with its bytes),
the record's ``StoredRendition`` (with its key), the image report and the API's ``RenditionOut`` are all
this description, extended or shown.

Add a field here (with a default, so that records stored without it still load) and it is made, stored,
loaded, reported and shown by the API; only the code that decides its value needs a change besides. It is
plain data (no Pillow, no pydantic, no boto3), so the image core, the domain and the API may all import it
without importing each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from functools import cache
from types import MappingProxyType, NoneType, UnionType
from typing import Any, Final, Self, Union, cast, get_args, get_origin, get_type_hints

#: A field's value in plain form: what ``to_plain`` gives and ``from_plain`` reads.
Plain = str | int | float | bool | None

SHOWN_NAMES: Final[Mapping[str, str]] = MappingProxyType({"size": "bytes"})
"""What the image report and the API call a field whose attribute name does not suit them (the size is
``bytes``); the stored record keeps the attribute names."""

THUMBNAIL_PREFIX: Final = "thumb-"
"""Thumbnails are named ``thumb-<size>`` after their longest edge (``ImagingOptions.thumbnail_sizes``);
readers find them by this prefix and their widths, never by a list of sizes of their own."""


def thumbnail_name(size: int) -> str:
    """The rendition name of the thumbnail whose longest edge is ``size``."""
    return f"{THUMBNAIL_PREFIX}{size}"


_CONVERTERS: Final[Mapping[type, Callable[[Any], Plain]]] = MappingProxyType(
    {str: str, int: int, float: float, bool: bool}
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RenditionInfo:
    """One derived image as every layer describes it.

    ``name`` is ``"compressed"``, ``"thumb-<size>"`` or ``"analysis"``; ``size`` its length in bytes.
    ``quality`` is the encoder quality used (None when the bytes were kept). ``ssim`` is the SSIM on luma
    reached by the compressed rendition, measured on full-resolution tiles sampled over the image (None when
    not targeted). ``kept_original`` is True when the compressed rendition is the original's bytes (with
    private metadata removed for JPEG) because re-encoding them came out larger.
    """

    name: str
    format: str
    mime: str
    width: int
    height: int
    size: int
    quality: int | None = None
    ssim: float | None = None
    kept_original: bool = False

    @property
    def is_thumbnail(self) -> bool:
        """Whether this is one of the thumbnails (``thumb-<size>``)."""
        return self.name.startswith(THUMBNAIL_PREFIX)

    def described(self) -> dict[str, Any]:
        """The description fields alone (what a subclass adds left out), by attribute name, in order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(RenditionInfo)}

    def info(self) -> RenditionInfo:
        """This rendition's description alone, as a ``RenditionInfo``."""
        return RenditionInfo(**self.described())

    def shown(self) -> dict[str, Any]:
        """The description fields under the names the report and the API show them by (``SHOWN_NAMES``)."""
        return {SHOWN_NAMES.get(name, name): value for name, value in self.described().items()}

    def to_plain(self) -> dict[str, Plain]:
        """Every field of this (sub)class by attribute name, in order: JSON-able values for a subclass whose
        fields are all plain (``StoredRendition``; not the image core's, which holds bytes)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_plain(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of :meth:`to_plain`. A field that has a default may be absent (a record written before it
        existed); numbers are converted to the field's type (DynamoDB gives ``Decimal``)."""
        values: dict[str, Any] = {}
        # The cast: mypy does not take a dataclass's class object for Hashable (what the cache needs).
        for decoder in _decoders(cast(type, cls)):
            if decoder.required or decoder.name in data:
                value = data[decoder.name]  # KeyError for a required field that is absent
                values[decoder.name] = None if decoder.optional and value is None else decoder.convert(value)
        return cls(**values)


def shown_fields() -> dict[str, Any]:
    """The type of every description field, under its shown name (``SHOWN_NAMES``), in order."""
    hints = get_type_hints(RenditionInfo)
    return {SHOWN_NAMES.get(f.name, f.name): hints[f.name] for f in dataclasses.fields(RenditionInfo)}


@dataclasses.dataclass(frozen=True, slots=True)
class _Decoder:
    """How ``from_plain`` reads one field: its converter, whether it may be None, whether it must be there."""

    name: str
    convert: Callable[[Any], Plain]
    optional: bool
    required: bool


@cache
def _decoders(cls: type) -> tuple[_Decoder, ...]:
    """How to read every field of ``cls`` that ``__init__`` takes; ``TypeError`` for one that is not plain."""
    hints = get_type_hints(cls)
    decoders = []
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        hint = hints[field.name]
        members = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
        scalars = [member for member in members if member is not NoneType]
        if len(scalars) != 1 or scalars[0] not in _CONVERTERS:
            raise TypeError(f"{field.name}: {hint} is not a plain type (str, int, float, bool, optionally None)")
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        decoders.append(_Decoder(field.name, _CONVERTERS[scalars[0]], NoneType in members, required))
    return tuple(decoders)
