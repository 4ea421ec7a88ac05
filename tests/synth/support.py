"""Shared pieces of the synthesis tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Synthesized:
    """The ready stack synthesized once: the stack object, its JSON (for ``cdktf.Testing`` matchers),
    the parsed document and the path of ``cdk.tf.json``."""

    stack: Any
    json_text: str
    document: dict[str, Any]
    outdir: Path
    path: Path

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """The resources of one Terraform type, by construct-derived name."""
        return self.document.get("resource", {}).get(resource_type, {})


#: The environment of the synthesis under test: the project's cdktf.json plus an alert subscriber.
SYNTH_ENVIRON = {"IMGMGR_ALERT_EMAILS": "ops@example.com"}


def plain(name: str) -> str:
    """``name`` with the region data source's reference written ``<region>``
    (``imgmgr-compress-${data.aws_region.pipeline_region_X.name}`` -> ``imgmgr-compress-<region>``)."""
    return re.sub(r"\$\{data\.aws_region\.[^.}]+\.name\}", "<region>", name)


def short(name: str) -> str:
    """An account-wide name without its region suffix (``imgmgr-compress-<region>`` -> ``imgmgr-compress``)."""
    return plain(name).removesuffix("-<region>")
