"""``imgmgr retry`` and ``imgmgr show`` of a failed image: plain words, and the way to retry it."""

from __future__ import annotations

from imgmgr.worker import Queue
from lambdas.domain.errors import PermanentError
from tests.api.conftest import CHELSEA
from tests.unit.cli.test_output import _run, _upload, api  # noqa: F401 - the fixture


def _failed(api) -> str:  # noqa: F811
    _http, _headers, runtime = api
    runtime.pipeline.ports.labeler.error = PermanentError("refused", code="Labeler.InvalidImage")
    image_id = _upload(api, CHELSEA, "cat.png", process=False)
    record = runtime.pipeline.ports.metadata.get(image_id)
    for step in ("compress", "thumbnail", "categorize"):
        runtime.pipeline.run_step(step, image_id, record.original_key)
    runtime.pipeline.ports.labeler.error = None
    return image_id


def test_show_says_why_a_failed_image_failed_and_how_to_retry_it(api):  # noqa: F811
    image_id = _failed(api)
    result = _run(api, "show", image_id)
    assert "failed: The image could not be labelled. (Labeler.InvalidImage)" in result.output
    assert f"retry it with: imgmgr retry {image_id}" in result.output


def test_retry_queues_the_failed_step_and_refuses_what_cannot_be_retried(api):  # noqa: F811
    # GIVEN a failed image and a ready one
    image_id = _failed(api)
    ready_id = _upload(api, CHELSEA.parent / "coffee.png", "coffee.png", process=True)
    # WHEN both are retried
    result = _run(api, "retry", image_id, ready_id)
    # THEN the failed one is queued again from its failed step; the ready one is refused in plain words
    assert result.exit_code == 1
    assert f"{image_id}: retrying" in result.output
    assert f"{ready_id}: Only a failed image can be retried. (Image.NotFailed)" in result.output
    queue: Queue = api[2].queue
    job = queue.lease()
    assert job is not None and (job.image_id, job.step) == (image_id, "categorize")


def test_retry_takes_a_unique_start_of_an_id(api):  # noqa: F811
    # GIVEN a failed image WHEN retried by the start of its id THEN that image is retried
    image_id = _failed(api)
    result = _run(api, "retry", image_id[:6])
    assert result.exit_code == 0, result.output
    assert f"{image_id}: retrying" in result.output
