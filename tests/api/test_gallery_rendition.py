"""The gallery's rendition is found by kind and width, so that other thumbnail sizes need no change here."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from lambdas.api.views import gallery_rendition
from lambdas.domain.records import StoredRendition, new_record
from lambdas.renditions import thumbnail_name

T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def _rendition(name: str, edge: int) -> StoredRendition:
    return StoredRendition(
        name=name,
        key=f"renditions/i/{name}.jpg",
        format="jpeg",
        mime="image/jpeg",
        width=edge,
        height=edge // 2,
        size=9,
    )


def _record(*renditions: StoredRendition):  # type: ignore[no-untyped-def]
    record = new_record(image_id="i", owner="alice", filename="a.jpg", at=T0)
    return dataclasses.replace(record, renditions=tuple(renditions))


def test_the_smallest_thumbnail_of_any_configured_sizes_is_shown():
    # GIVEN thumbnails of sizes other than the defaults, listed largest first, and a compressed rendition
    record = _record(
        _rendition("compressed", 4000), _rendition(thumbnail_name(640), 640), _rendition(thumbnail_name(128), 128)
    )
    # THEN the gallery shows the smallest thumbnail
    chosen = gallery_rendition(record)
    assert chosen is not None and chosen.name == "thumb-128"


def test_without_thumbnails_the_analysis_then_the_compressed_rendition_is_shown():
    assert gallery_rendition(_record()) is None
    assert gallery_rendition(_record(_rendition("compressed", 4000))).name == "compressed"  # type: ignore[union-attr]
    chosen = gallery_rendition(_record(_rendition("compressed", 4000), _rendition("analysis", 1024)))
    assert chosen is not None and chosen.name == "analysis"
