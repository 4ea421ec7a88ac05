"""Destination envelopes: what thumbnail and categorize accept as their input."""

from __future__ import annotations

from lambdas.handlers.common import previous_results
from tests.handlers.conftest import envelope, failure_record, s3_event

RESULT = {"step": "compress", "image_id": "img-1", "owner": "alice", "state": "compressed", "outcome": "done"}


def test_a_success_envelope_yields_the_previous_results():
    event = envelope(s3_event("uploads/alice/img-1/a.jpg", 10), {"images": [RESULT]}, function="compress")
    assert list(previous_results(event)) == [RESULT]


def test_an_envelope_of_a_failed_invocation_yields_nothing():
    # GIVEN the on-failure record of a compress (its response is Lambda's error, not a result)
    event = failure_record(s3_event("uploads/alice/img-1/a.jpg", 10), function="compress")
    # WHEN read as a step's input THEN there is nothing to do
    assert list(previous_results(event)) == []


def test_a_direct_invocation_with_results_is_accepted():
    assert list(previous_results({"images": [RESULT]})) == [RESULT]


def test_entries_that_are_not_step_results_are_left_out():
    event = envelope({}, {"images": [{"image_id": "img-1"}, "x", RESULT]}, function="compress")
    assert list(previous_results(event)) == [RESULT]
