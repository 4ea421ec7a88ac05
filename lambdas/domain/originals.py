"""What happens to an original once its compressed rendition stands for it: the originals policy.

- ``keep``: originals stay in S3 Standard (a stored image costs ~1.7x its original's bytes with its
  renditions, measured on camera-like photos).
- ``archive``: ``after_days`` after upload, originals whose compressed rendition is verified move to S3
  Glacier Instant Retrieval (0.004 instead of 0.023 USD per GB-month, still downloadable at once; 90 days
  of storage are billed at least, and each GB read costs 0.03 USD). The bytes stay: the footprint does not
  shrink, the bill does.
- ``expire`` (the default): ``after_days`` after upload, originals whose compressed rendition is verified
  are deleted; the compressed rendition, at the perceptual target, is then the best copy. The footprint
  of a stored image falls to its renditions (0.71x on camera-like photos, see ``make bench``).

"Verified" means the compressed rendition was written, decodes to the original's displayed size and has
its quality recorded; an original that stands in for its compressed rendition (``kept_original``) is never
touched. On AWS the compress step tags such an original (``REPLACEABLE_TAG``) once the record lists the
verified rendition, and the bucket's lifecycle rule acts on tagged originals only; its
``LifecycleExpiration`` event tells the compress function, which records the removal (the usage counters
drop) when the original was scheduled and is really gone. Locally the janitor does both at the recorded
time, under ``expire`` only (a server restarted with ``keep`` removes nothing more).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

POLICIES: tuple[str, ...] = ("keep", "archive", "expire")
DEFAULT_POLICY = "expire"
DEFAULT_AFTER_DAYS = 30


@dataclass(frozen=True, kw_only=True)
class OriginalsPolicy:
    """``policy`` (one of ``POLICIES``) applied ``after_days`` days after upload."""

    policy: str = DEFAULT_POLICY
    after_days: int = DEFAULT_AFTER_DAYS

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"originals policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")
        if (
            isinstance(self.after_days, bool)
            or not isinstance(self.after_days, int)
            or not 1 <= self.after_days <= 36_500
        ):
            raise ValueError(f"originals after_days must be an integer from 1 to 36500, got {self.after_days!r}")

    @property
    def replaces(self) -> bool:
        """Whether a verified rendition changes anything for the original (archive or expire)."""
        return self.policy != "keep"

    def removal_at(self, uploaded_at: datetime) -> datetime | None:
        """When the original of an image uploaded at ``uploaded_at`` is removed (``expire`` only).

        S3 counts lifecycle days from the object's creation and acts at the next midnight UTC after them.
        """
        if self.policy != "expire":
            return None
        due = uploaded_at.astimezone(UTC) + timedelta(days=self.after_days)
        midnight = due.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight if midnight == due else midnight + timedelta(days=1)
