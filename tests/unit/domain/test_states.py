"""The state machine only moves forward."""

from __future__ import annotations

import pytest

from lambdas.domain.states import PIPELINE, ImageState, is_forward

S = ImageState


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        (S.AWAITING_UPLOAD, S.UPLOADED),
        (S.UPLOADED, S.COMPRESSED),
        (S.AWAITING_UPLOAD, S.COMPRESSED),
        (S.THUMBNAILED, S.READY),
        (S.COMPRESSED, S.COMPRESSED),
        (S.COMPRESSED, S.FAILED),
        (S.READY, S.DELETED),
        (S.FAILED, S.DELETED),
    ],
)
def test_forward_moves_are_allowed(src, dst):
    assert is_forward(src, dst)


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        (S.READY, S.THUMBNAILED),
        (S.COMPRESSED, S.UPLOADED),
        (S.READY, S.FAILED),
        (S.DELETED, S.READY),
        (S.DELETED, S.DELETED),
        (S.FAILED, S.COMPRESSED),
    ],
)
def test_backward_moves_are_refused(src, dst):
    assert not is_forward(src, dst)


def test_a_retryable_failure_resumes_from_its_state_onwards():
    # GIVEN a failure that happened while compressed
    # WHEN resuming THEN the record may go on to thumbnailed but not back to uploaded
    assert is_forward(S.FAILED, S.THUMBNAILED, resume_from=S.COMPRESSED)
    assert not is_forward(S.FAILED, S.UPLOADED, resume_from=S.COMPRESSED)


def test_the_pipeline_is_in_order():
    assert [s.value for s in PIPELINE] == ["awaiting_upload", "uploaded", "compressed", "thumbnailed", "ready"]
