"""Builds the cdktf app from settings; ``main.py`` calls it, tests call it with their own settings."""

from __future__ import annotations

from pathlib import Path

from cdktf import App

from stacks.image_management import ImageManagementStack
from stacks.settings import Settings


def build_app(settings: Settings, outdir: Path | str | None = None) -> tuple[App, ImageManagementStack]:
    """Returns the app and its one stack, not yet synthesized.

    ``outdir`` defaults to the ``CDKTF_OUTDIR`` environment variable (set by the cdktf CLI), else
    ``cdktf.out``.
    """
    app = App(outdir=str(outdir)) if outdir is not None else App()
    stack = ImageManagementStack(app, settings.stack_name, settings=settings)
    return app, stack
