"""Settings come from the environment in one place, with defaults and messages naming the variable."""

from __future__ import annotations

import pytest

from lambdas.config import Settings

BASE = {"IMGMGR_BUCKET": "b", "IMGMGR_TABLE": "t"}


def test_defaults_fill_what_the_environment_leaves_out():
    settings = Settings.from_env(BASE)
    assert (settings.min_confidence, settings.max_labels, settings.compressed_format) == (70.0, 20, "jpeg")


def test_values_are_read_and_passed_to_the_image_core():
    env = {**BASE, "IMGMGR_MAX_PIXELS": "1000", "IMGMGR_MAX_UPLOAD_BYTES": "2048", "IMGMGR_COMPRESSED_FORMAT": "webp"}
    options = Settings.from_env(env).imaging_options()
    assert (options.max_pixels, options.max_input_bytes, options.compressed_format) == (1000, 2048, "webp")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IMGMGR_TABLE": "t"}, "IMGMGR_BUCKET"),
        ({**BASE, "IMGMGR_MAX_LABELS": "many"}, "IMGMGR_MAX_LABELS must be a number"),
        ({**BASE, "IMGMGR_MIN_CONFIDENCE": "101"}, "IMGMGR_MIN_CONFIDENCE must be 0..100"),
        ({**BASE, "IMGMGR_COMPRESSED_FORMAT": "bmp"}, "IMGMGR_COMPRESSED_FORMAT must be one of"),
    ],
)
def test_bad_settings_fail_naming_the_variable(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)
