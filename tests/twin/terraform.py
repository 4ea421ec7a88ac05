"""Terraform on the synthesized stack: the real ``hashicorp/aws`` provider from a local mirror, pointed at
the emulator by one generated override file, and nothing else changed.

The provider cannot be downloaded here, so it is found at run time in a filesystem mirror
(``<dir>/registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/``): ``IMGMGR_TF_PLUGIN_DIR`` when set,
else Terraform's implied mirror directories, else a shallow search of the usual install roots. When
none is found the twin fails saying so; it never skips.
"""

from __future__ import annotations

import glob
import json
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The endpoint names of the provider's ``endpoints`` block for every service the stack uses.
ENDPOINT_SERVICES = (
    "apigateway",
    "athena",
    "budgets",
    "cloudwatch",
    "cognitoidp",
    "dynamodb",
    "glue",
    "iam",
    "lambda",
    "logs",
    "quicksight",
    "s3",
    "sns",
    "sqs",
    "sts",
)

#: The override file written next to ``cdk.tf.json``; Terraform merges ``*_override.tf.json`` last.
OVERRIDE_FILE = "emulator_override.tf.json"


class TerraformMissing(RuntimeError):
    """Terraform or the provider mirror is not on this machine."""


def _platform() -> str:
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    return f"{platform.system().lower()}_{machine}"


def _mirror_roots() -> list[Path]:
    home = Path.home()
    implied = [
        home / ".terraform.d" / "plugins",
        home / ".local" / "share" / "terraform" / "plugins",
        Path("/usr/local/share/terraform/plugins"),
        Path("/usr/share/terraform/plugins"),
    ]
    for root in ("/opt", "/usr/local", "/usr/share", "/srv", str(home)):
        for depth in ("", "*/", "*/*/"):
            implied.extend(
                Path(match).parent
                for match in sorted(glob.glob(f"{root}/{depth}registry.terraform.io"))
                if Path(match).is_dir()
            )
    return implied


def find_plugin_dir() -> tuple[Path, str]:
    """The mirror directory holding a ``hashicorp/aws`` provider for this platform, and its version."""
    configured = os.environ.get("IMGMGR_TF_PLUGIN_DIR")
    roots = [Path(configured)] if configured else _mirror_roots()
    for root in roots:
        found = sorted(
            glob.glob(
                str(
                    root
                    / "registry.terraform.io"
                    / "hashicorp"
                    / "aws"
                    / "*"
                    / _platform()
                    / "terraform-provider-aws_*"
                )
            )
        )
        if found:
            return root, Path(found[-1]).parent.parent.name
    searched = ", ".join(str(root) for root in roots) or "(none)"
    raise TerraformMissing(
        f"no hashicorp/aws provider for {_platform()} in a filesystem mirror (searched {searched}); "
        "set IMGMGR_TF_PLUGIN_DIR to the directory that holds registry.terraform.io/"
    )


def find_terraform() -> str:
    binary = os.environ.get("IMGMGR_TERRAFORM") or shutil.which("terraform") or shutil.which("tofu")
    if not binary:
        raise TerraformMissing("terraform is not on PATH (set IMGMGR_TERRAFORM to its binary)")
    return binary


def emulator_override(endpoint: str, state_path: Path) -> dict[str, Any]:
    """The override that points the provider at the emulator and the state at ``state_path``."""
    return {
        "provider": {
            "aws": [
                {
                    "access_key": "twin",
                    "secret_key": "twin",
                    "skip_credentials_validation": True,
                    "skip_metadata_api_check": True,
                    "skip_region_validation": True,
                    "s3_use_path_style": True,
                    "endpoints": [{service: endpoint for service in ENDPOINT_SERVICES}],
                }
            ]
        },
        "terraform": {"backend": {"local": {"path": str(state_path)}}},
    }


@dataclass
class Workspace:
    """A copy of one synthesized stack directory, with the emulator override, driven by terraform."""

    directory: Path
    terraform: str
    plugin_dir: Path
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per Terraform command, by command."""

    @classmethod
    def prepare(cls, stack_dir: Path, into: Path, *, endpoint: str) -> Workspace:
        """Copies ``stack_dir`` (``cdk.tf.json`` and its assets) to ``into`` and writes the override."""
        plugin_dir, _ = find_plugin_dir()
        terraform = find_terraform()
        shutil.copytree(stack_dir, into)
        (into / OVERRIDE_FILE).write_text(json.dumps(emulator_override(endpoint, into / "terraform.tfstate"), indent=1))
        return cls(directory=into, terraform=terraform, plugin_dir=plugin_dir)

    def environ(self) -> dict[str, str]:
        cli_config = self.directory / "terraformrc"
        cli_config.touch()
        return {
            **{key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "TF_"))},
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = subprocess.run(
            [self.terraform, *args],
            cwd=self.directory,
            env=self.environ(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.timings[args[0]] = self.timings.get(args[0], 0.0) + time.monotonic() - started
        if check and result.returncode != 0:
            raise RuntimeError(f"terraform {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-6000:]}")
        return result

    def init(self) -> None:
        self.run("init", "-no-color", f"-plugin-dir={self.plugin_dir}")

    def validate(self) -> None:
        self.run("validate", "-no-color")

    def apply(self) -> None:
        self.run("apply", "-no-color", "-auto-approve", "-parallelism=20")

    def plan_changes(self) -> list[dict[str, Any]]:
        """The resource changes a plan proposes now (none after a clean apply)."""
        # -detailed-exitcode: 0 is a plan without any change, 2 one with changes, anything else an error.
        # Only a plan with changes is shown (``show -json`` loads every provider schema: seconds).
        planned = self.run("plan", "-no-color", "-detailed-exitcode", "-out=twin.plan", "-parallelism=20", check=False)
        if planned.returncode == 0:
            return []
        if planned.returncode != 2:
            raise RuntimeError(f"terraform plan failed ({planned.returncode}):\n{planned.stderr[-6000:]}")
        shown = json.loads(self.run("show", "-json", "twin.plan").stdout)
        return [
            change
            for change in shown.get("resource_changes", [])
            if change["change"]["actions"] not in (["no-op"], ["read"])
        ]

    def destroy(self) -> None:
        self.run("destroy", "-no-color", "-auto-approve", "-parallelism=20")

    def addresses(self) -> list[str]:
        """The address of every resource and data source in the state (``terraform state list``, which reads
        the state alone; ``show -json`` would load every provider schema first: seconds per call)."""
        return self.run("state", "list").stdout.split()

    def outputs(self) -> dict[str, Any]:
        shown = json.loads(self.run("output", "-json").stdout)
        return {name: value["value"] for name, value in shown.items()}
