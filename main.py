"""Builds the app from settings and synthesizes it (``cdktf synth`` runs this; so does ``make synth``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from stacks.settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_project(Path(__file__).resolve().parent, os.environ)
    except SettingsError as error:
        print(f"error: setting {error}", file=sys.stderr)
        return 2
    from stacks.app import build_app  # deferred: importing the provider bindings takes ~25 s

    app, _ = build_app(settings)  # outdir: CDKTF_OUTDIR when set, else cdktf.out
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
