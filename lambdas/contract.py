"""The contract between the infrastructure and the code it deploys: one definition of every name both use.

``constructs_lib`` reads it at synth time to lay out the bucket, the table, the functions and their
environment; ``lambdas`` reads it at run time to find them. It is plain data (no boto3, no Pillow, no
I/O), so importing it costs nothing on either side. Change a name here and both sides follow.
"""

from __future__ import annotations

from typing import Final

# --------------------------------------------------------------------------- object keys of the bucket

UPLOADS_PREFIX: Final = "uploads/"
"""Originals, as uploaded: ``uploads/<owner>/<image id>/<file name>``."""
RENDITIONS_PREFIX: Final = "renditions/"
"""What the pipeline makes of an original: ``renditions/<image id>/<rendition>.<extension>``."""
ANALYTICS_PREFIX: Final = "analytics/"
"""Everything of the analytics lake below it."""
EVENTS_PREFIX: Final = f"{ANALYTICS_PREFIX}events/"
"""Analytics events as JSON lines, ``events/dt=YYYY-MM-DD/``, written by the exporter."""
REJECTED_PREFIX: Final = f"{ANALYTICS_PREFIX}rejected/"
"""Log lines the exporter refused (kept to be looked at, expired after a while)."""
ATHENA_RESULTS_PREFIX: Final = "athena-results/"
"""Where Athena writes the results of the analytics queries."""
EVENTS_TABLE: Final = "events"
"""The Glue table of the analytics events; the saved queries read it as ``"<database>"."events"``."""
PAID_WRITE_PREFIXES: Final = (UPLOADS_PREFIX, RENDITIONS_PREFIX)
"""The prefixes whose writes grow the bill with the users' uploads."""

REPLACEABLE_TAG: Final = ("imgmgr-original", "replaceable")
"""Object tag (key, value) the compress step puts on an original once its compressed rendition is
recorded and verified: the bucket's lifecycle rule acts only on originals that carry it."""

# --------------------------------------------------------------------------- analytics events in the logs

RECORD_TYPE: Final = "imgmgr.event"
"""Value of ``record_type`` on the log lines that carry an analytics event (one JSON object per line)."""
SUBSCRIPTION_FILTER_PATTERN: Final = f'{{ $.record_type = "{RECORD_TYPE}" }}'
"""CloudWatch Logs filter pattern of the subscription that sends exactly those lines to the exporter."""

# --------------------------------------------------------------------------- the pipeline

COMPRESS: Final = "compress"
THUMBNAIL: Final = "thumbnail"
CATEGORIZE: Final = "categorize"
STEPS: Final = (COMPRESS, THUMBNAIL, CATEGORIZE)
"""The pipeline's steps, in the order an image goes through them (each is a function on AWS)."""
IMAGE_STEPS: Final = (COMPRESS, THUMBNAIL)
"""The steps that decode images (their functions get the allocator settings and the most memory)."""

COMPRESSED_FORMATS: Final = ("jpeg", "webp", "avif")
"""Formats the compressed rendition can be written in."""

# --------------------------------------------------------------------------- the table

TABLE_KEY_SCHEMA: Final = (("pk", "HASH"), ("sk", "RANGE"))
"""Table key schema: ``(attribute, key type)``."""
GSI_NAMES: Final = ("gsi1", "gsi2", "gsi3")
"""The global secondary indexes, each with its ``(<name>pk, <name>sk)`` string keys."""
GSI_KEYS: Final = {name: (f"{name}pk", f"{name}sk") for name in GSI_NAMES}
GSI_PROJECTION: Final = "KEYS_ONLY"
"""Projection of every GSI: keys only (readers fetch the records)."""
ATTRIBUTE_DEFINITIONS: Final = (
    ("pk", "S"),
    ("sk", "S"),
    *((attribute, "S") for name in GSI_NAMES for attribute in GSI_KEYS[name]),
)
"""All key attributes (table and GSIs) are strings."""
TTL_ATTRIBUTE: Final = "expires_at"
"""The TTL attribute (epoch seconds) that expires tombstones and abandoned uploads."""

# --------------------------------------------------------------------------- end users' sign-in

SIGN_IN_SCOPES: Final = ("openid", "email")
"""OAuth scopes of the page's app client, which the page asks the managed login for: the ID token
(``openid``) with the user's e-mail."""

# --------------------------------------------------------------------------- the functions' environment


class Env:
    """Names of the environment variables the constructs set and the functions read (``lambdas.config``)."""

    BUCKET: Final = "IMGMGR_BUCKET"
    TABLE: Final = "IMGMGR_TABLE"
    DLQ_URL: Final = "IMGMGR_DLQ_URL"
    MAX_PIXELS: Final = "IMGMGR_MAX_PIXELS"
    MAX_UPLOAD_BYTES: Final = "IMGMGR_MAX_UPLOAD_BYTES"
    COMPRESSED_FORMAT: Final = "IMGMGR_COMPRESSED_FORMAT"
    MIN_CONFIDENCE: Final = "IMGMGR_MIN_CONFIDENCE"
    MAX_LABELS: Final = "IMGMGR_MAX_LABELS"
    CURSOR_SECRET: Final = "IMGMGR_CURSOR_SECRET"  # noqa: S105 - the name of a variable, not a secret
    CORS_ORIGINS: Final = "IMGMGR_CORS_ORIGINS"
    ORIGINALS: Final = "IMGMGR_ORIGINALS"
    ORIGINALS_AFTER_DAYS: Final = "IMGMGR_ORIGINALS_AFTER_DAYS"
    MAX_ATTEMPTS: Final = "IMGMGR_MAX_ATTEMPTS"
    ANALYTICS_WORKGROUP: Final = "IMGMGR_ANALYTICS_WORKGROUP"
    ANALYTICS_DATABASE: Final = "IMGMGR_ANALYTICS_DATABASE"
    ANALYTICS_TIMEOUT_SECONDS: Final = "IMGMGR_ANALYTICS_TIMEOUT_SECONDS"
    COMPRESS_FUNCTION: Final = "IMGMGR_COMPRESS_FUNCTION"
    THUMBNAIL_FUNCTION: Final = "IMGMGR_THUMBNAIL_FUNCTION"
    CATEGORIZE_FUNCTION: Final = "IMGMGR_CATEGORIZE_FUNCTION"
    COGNITO_LOGIN_URL: Final = "IMGMGR_COGNITO_LOGIN_URL"
    COGNITO_CLIENT_ID: Final = "IMGMGR_COGNITO_CLIENT_ID"
    COGNITO_API_KEY_REQUIRED: Final = "IMGMGR_COGNITO_API_KEY_REQUIRED"


STEP_FUNCTION_ENV: Final = {
    COMPRESS: Env.COMPRESS_FUNCTION,
    THUMBNAIL: Env.THUMBNAIL_FUNCTION,
    CATEGORIZE: Env.CATEGORIZE_FUNCTION,
}
"""The variable that names each step's function, for the API, which starts a failed step again."""
