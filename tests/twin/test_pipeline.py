"""Scenarios through the twin: the deployed API, S3, the three steps and the table, under their own IAM.

Each asserts on the emulator's own S3, DynamoDB and SQS state, read with the twin's unrestricted view.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from urllib.parse import unquote_plus

import pytest

from tests.twin.conftest import TwinSession
from tests.twin.runtime import PostRefused
from tests.twin.support import declare, image, photo, upload


def _keys(session: TwinSession, prefix: str) -> list[str]:
    s3 = session.twin.admin("s3")
    listed = s3.list_objects_v2(Bucket=session.outputs["bucket_name"], Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def _items(session: TwinSession, image_id: str) -> list[dict]:
    dynamodb = session.twin.admin("dynamodb")
    answer = dynamodb.query(
        TableName=session.outputs["table_name"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"IMG#{image_id}"}},
        ConsistentRead=True,
    )
    return answer["Items"]


def _record(session: TwinSession, image_id: str) -> dict:
    return next(item for item in _items(session, image_id) if item["sk"]["S"] == "IMG")


def _hash_item(session: TwinSession, owner: str, data: bytes) -> dict | None:
    """The item that keeps ``owner``'s hash of ``data`` unique (``lambdas.adapters.aws.dynamodb``)."""
    dynamodb = session.twin.admin("dynamodb")
    key = {"pk": {"S": f"HASH#{owner}#{hashlib.sha256(data).hexdigest()}"}, "sk": {"S": "HASH"}}
    return dynamodb.get_item(TableName=session.outputs["table_name"], Key=key, ConsistentRead=True).get("Item")


def _dead_letters(session: TwinSession) -> list[dict]:
    sqs = session.twin.admin("sqs")
    url = session.outputs["dead_letter_queue_url"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_an_upload_through_the_presigned_post_becomes_a_ready_image_with_renditions(twin: TwinSession) -> None:
    # GIVEN the deployed API and its key WHEN a client uploads a photo through the presigned POST
    uploaded = upload(twin, photo(1))
    # THEN compress, thumbnail and categorize ran on it and the image is ready with its renditions
    shown = image(twin, uploaded["id"])
    assert shown["status"] == "ready", (shown, twin.errors())
    assert shown["categories"], shown
    assert _record(twin, uploaded["id"])["state"]["S"] == "ready"
    renditions = _keys(twin, f"renditions/{uploaded['id']}/")
    assert len(renditions) >= 3, renditions
    assert {r["name"] for r in shown["renditions"]} >= {"compressed"}, shown["renditions"]


def test_an_exact_duplicate_answers_the_existing_image_and_uploads_nothing(twin: TwinSession) -> None:
    # GIVEN an uploaded photo
    data = photo(2)
    first = upload(twin, data)
    originals = _keys(twin, "uploads/")
    # WHEN the same bytes are declared again THEN the answer is the existing image, with no upload target
    again = declare(twin, data, filename="copy.jpg")
    assert again.status == 200, again.text
    assert again.json()["duplicate"] is True and again.json()["upload"] is None
    assert again.json()["image"]["id"] == first["id"]
    assert _keys(twin, "uploads/") == originals
    # AND the table holds the content-hash item the API's role wrote, naming the image, without a TTL
    held = _hash_item(twin, _record(twin, first["id"])["owner"]["S"], data)
    assert held is not None and held["image_id"]["S"] == first["id"] and "expires_at" not in held, held


def test_deleting_an_image_removes_its_original_renditions_and_records(twin: TwinSession) -> None:
    # GIVEN a ready image
    data = photo(3)
    uploaded = upload(twin, data)
    owner = _record(twin, uploaded["id"])["owner"]["S"]
    assert _keys(twin, f"renditions/{uploaded['id']}/")
    # WHEN its owner deletes it
    response = twin.api.request("DELETE", f"/v1/images/{uploaded['id']}", api_key=twin.api_key)
    assert response.status == 204, (response.text, twin.errors())
    # THEN no current object and no item of the image is left, and the API no longer shows it
    assert _keys(twin, f"renditions/{uploaded['id']}/") == []
    assert [key for key in _keys(twin, "uploads/") if f"/{uploaded['id']}/" in key] == []
    assert [item["sk"]["S"] for item in _items(twin, uploaded["id"]) if item["sk"]["S"] != "IMG"] == []
    assert twin.api.request("GET", f"/v1/images/{uploaded['id']}", api_key=twin.api_key).status == 404
    # AND its content-hash item went with it, so the same bytes make a new image
    assert _hash_item(twin, owner, data) is None
    again = declare(twin, data)
    assert again.status == 201, again.text
    assert again.json()["image"]["id"] != uploaded["id"] and again.json()["upload"] is not None


def test_a_retried_step_that_meets_a_tombstone_purges_under_its_own_role(twin: TwinSession) -> None:
    # GIVEN a ready image, the events its compress and thumbnail ran on, and a rendition no record names
    # (a thumbnail run killed between its write and its commit, whose retry is due)
    uploaded = upload(twin, photo(7))
    image_id = uploaded["id"]
    runs = {i.function: i.event for i in twin.twin.invocations if image_id in json.dumps(i.event)}
    bucket = twin.outputs["bucket_name"]
    s3 = twin.twin.admin("s3")
    s3.put_object(Bucket=bucket, Key=f"renditions/{image_id}/thumb-4096.jpg", Body=b"written by a killed run")
    # AND the owner deletes the image (the API removes what the record names: it cannot list the bucket)
    response = twin.api.request("DELETE", f"/v1/images/{image_id}", api_key=twin.api_key)
    assert response.status == 204, (response.text, twin.errors())
    assert _keys(twin, f"renditions/{image_id}/") == [f"renditions/{image_id}/thumb-4096.jpg"]
    # WHEN Lambda retries the killed thumbnail run THEN it purges the image's renditions with its own role
    retried = twin.twin.invoke("imgmgr-thumbnail", runs["imgmgr-thumbnail"])
    assert retried.error is None, retried.error
    assert retried.result["images"][0]["outcome"] == "skipped"
    assert _keys(twin, f"renditions/{image_id}/") == []
    # AND WHEN S3 delivers the original's event again after its bytes came back (a late or repeated POST)
    (original,) = {record["s3"]["object"]["key"] for record in runs["imgmgr-compress"]["Records"]}
    s3.put_object(Bucket=bucket, Key=unquote_plus(original), Body=photo(7))
    again = twin.twin.invoke("imgmgr-compress", runs["imgmgr-compress"])
    # THEN compress removes it with its own role: nothing of the image is left
    assert again.error is None, again.error
    assert [key for key in _keys(twin, "uploads/") if f"/{image_id}/" in key] == []


def test_a_file_that_is_not_an_image_fails_with_its_code_and_nothing_derived(twin: TwinSession) -> None:
    # GIVEN bytes that are no image, declared as a JPEG
    hostile = b"<?php system($_GET['c']); ?>" + b"\0" * 2000
    uploaded = upload(twin, hostile, filename="shell.jpg")
    # THEN the image is failed with the code of the refusal, permanently, and nothing was derived
    shown = image(twin, uploaded["id"])
    assert shown["status"] == "failed", shown
    assert shown["failure"]["code"] == "Image.NotAnImage", shown["failure"]
    assert _keys(twin, f"renditions/{uploaded['id']}/") == []
    assert _dead_letters(twin) == []


def test_the_presigned_post_enforces_its_policy(twin: TwinSession) -> None:
    # GIVEN a presigned POST for a declared JPEG
    data = photo(4)
    target = declare(twin, data).json()["upload"]
    fields = target["fields"]
    # THEN another key, another content type, an extra field, a bad signature or a late upload is refused
    cases = {
        "key": {**fields, "key": fields["key"].replace("uploads/", "uploads/other-")},
        "content type": {**fields, "Content-Type": "text/html"},
        "extra field": {**fields, "acl": "public-read"},
        "signature": {**fields, "x-amz-signature": "0" * 64},
    }
    for case, form in cases.items():
        with pytest.raises(PostRefused) as refused:
            twin.twin.post_object(target["url"], form, data)
        assert refused.value.status == 403, case
    with pytest.raises(PostRefused, match="EntityTooSmall"):
        twin.twin.post_object(target["url"], fields, b"")
    real_now = twin.twin.now
    twin.twin.now = lambda: real_now() + timedelta(hours=2)
    try:
        with pytest.raises(PostRefused, match="expired"):
            twin.twin.post_object(target["url"], fields, data)
    finally:
        twin.twin.now = real_now
    assert [key for key in _keys(twin, "uploads/") if key == fields["key"]] == []


def test_a_step_that_fails_after_its_retries_lands_in_the_queue_and_redrive_replays_it(twin: TwinSession) -> None:
    # GIVEN Rekognition throttling every attempt of categorize (the first try and both retries)
    twin.twin.faults[("rekognition", "DetectLabels")] = ["ThrottlingException"] * 3
    uploaded = upload(twin, photo(5))
    # THEN the failure record of categorize waits in the dead-letter queue, with its $LATEST ARN
    records = _dead_letters(twin)
    assert len(records) == 1, (records, twin.errors())
    assert records[0]["requestContext"]["functionArn"].endswith(":function:imgmgr-categorize:$LATEST")
    assert records[0]["requestContext"]["condition"] == "RetriesExhausted"
    assert image(twin, uploaded["id"])["status"] != "ready"
    # WHEN the operator runs the redrive function (its own role, as deployed)
    replay = twin.twin.invoke("imgmgr-redrive", {})
    assert replay.error is None, replay.error
    assert replay.result["replayed"] == 1, replay.result
    twin.twin.drain()
    # THEN categorize ran again, the image is ready and the queue is empty
    assert image(twin, uploaded["id"])["status"] == "ready", twin.errors()
    assert _dead_letters(twin) == []


@pytest.mark.parametrize(
    ("faults", "seed"),
    [(["ThrottlingException"] * 3, 41), (["InvalidImageFormatException"], 42)],  # seeds no other twin test uses
    ids=["parked after its retries", "refused for good"],
)
def test_a_failed_image_is_retried_through_the_api_until_it_is_ready(twin: TwinSession, faults, seed) -> None:
    # GIVEN an image whose categorize failed: throttled on every attempt (parked, its event in the
    # dead-letter queue), or refused by Rekognition (a permanent failure)
    twin.twin.faults[("rekognition", "DetectLabels")] = list(faults)
    data = photo(seed)
    image_id = upload(twin, data)["id"]
    failed = image(twin, image_id)
    assert (failed["status"], failed["failure"]["step"]) == ("failed", "categorize"), (failed, twin.errors())
    assert failed["failure"]["retryable"] is False, failed["failure"]  # nothing retries it any more
    # AND declaring its bytes again names where to retry it
    assert declare(twin, data).json()["retry"] == f"v1/images/{image_id}/retry"
    # WHEN its owner retries it through the deployed API
    response = twin.api.request("POST", f"/v1/images/{image_id}/retry", api_key=twin.api_key)
    assert response.status == 202, (response.text, twin.errors())
    assert response.json()["failure"]["parked"] is False
    twin.twin.drain()
    # THEN the API's role invoked categorize's function (its policy evaluated), which made the image ready
    invokes = [
        c for c in twin.twin.calls if c.function == "imgmgr-api" and (c.service, c.operation) == ("lambda", "Invoke")
    ]
    assert [d.request.resource.rsplit(":", 1)[-1] for c in invokes for d in c.decisions][-1:] == ["imgmgr-categorize"]
    assert all(c.allowed for c in invokes)
    assert image(twin, image_id)["status"] == "ready", twin.errors()
    # AND a redrive of what the queue still holds changes nothing: the step meets a ready image
    replay = twin.twin.invoke("imgmgr-redrive", {})
    assert replay.error is None, replay.error
    twin.twin.drain()
    assert image(twin, image_id)["status"] == "ready"
    assert _dead_letters(twin) == []


def test_analytics_lines_reach_the_partition_that_the_glue_table_projects(twin: TwinSession) -> None:
    # GIVEN an uploaded image (its steps print analytics events)
    upload(twin, photo(6))
    # WHEN today's partition is resolved as Athena's partition projection resolves it: the template, or
    # without one the Hive layout <location>/<column>=<value>/
    glue = twin.twin.admin("glue")
    database = twin.outputs["analytics_database_name"]
    (table,) = [
        t for t in glue.get_tables(DatabaseName=database)["TableList"] if t["Parameters"].get("projection.enabled")
    ]
    parameters = table["Parameters"]
    assert parameters["projection.enabled"] == "true"
    (column,) = [key["Name"] for key in table["PartitionKeys"]]
    java_format = parameters[f"projection.{column}.format"]
    today = twin.twin.now().strftime(java_format.replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d"))
    template = parameters.get("storage.location.template")
    location = (
        template.replace(f"${{{column}}}", today)
        if template
        else f"{table['StorageDescriptor']['Location'].rstrip('/')}/{column}={today}/"
    )
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    # THEN the exporter's objects are there, gzip JSON lines of the upload and processing events
    assert bucket == twin.outputs["bucket_name"]
    keys = _keys(twin, prefix)
    assert keys, f"nothing under {location}"
    import gzip

    s3 = twin.twin.admin("s3")
    kinds = set()
    for key in keys:
        body = gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        kinds |= {json.loads(line)["event_type"] for line in body.splitlines() if line.strip()}
    assert {"upload", "processed"} <= kinds, kinds


def test_the_api_answers_the_owners_figures_with_athena_over_the_lake(twin: TwinSession) -> None:
    # GIVEN an uploaded image, processed, its events exported to the lake by the exporter
    uploaded = image(twin, upload(twin, photo(31))["id"])
    assert uploaded["status"] == "ready"
    # WHEN its owner asks the API for the usage figures (Athena answers over the bucket's objects, under
    # the API role's evaluated IAM: the workgroup, the table, the events read, the result written)
    response = twin.api.request("GET", "/v1/analytics", api_key=twin.api_key)
    # THEN the figures count the image: uploaded today, ready, its categories; no request was denied
    # (the fixture fails the test on a denial it did not expect)
    assert response.status == 200, (response.text, twin.errors())
    figures = response.json()["figures"]
    today = twin.twin.now().date().isoformat()
    uploads = {row["day"]: row["uploads"] for row in figures["uploads_per_day"]["rows"]}
    assert uploads.get(today, 0) >= 1, figures["uploads_per_day"]
    states = {row["state"]: row["images"] for row in figures["image_states"]["rows"]}
    assert states.get("ready", 0) >= 1, states
    assert {row["category"] for row in figures["popular_categories"]["rows"]} >= set(uploaded["categories"])
    athena_calls = [call for call in twin.twin.calls if call.service == "athena"]
    assert {call.operation for call in athena_calls} >= {"StartQueryExecution", "GetQueryExecution", "GetQueryResults"}


def test_only_applied_routes_are_reachable_and_data_routes_need_the_key(twin: TwinSession) -> None:
    # GIVEN the applied REST API
    api = twin.api
    # THEN the page and the health check answer without a key, every data route refuses a request
    # without one or with a wrong one before the function runs, and a key opens them
    assert api.request("GET", "/v1/health").status == 200
    assert api.request("GET", "/").status == 200
    # (the API reference at the stage path: its page, script and OpenAPI document, all relative links)
    assert 'src="static/docs.js"' in api.request("GET", "/docs").text
    assert api.request("GET", "/static/docs.js").status == 200
    assert "/v1/uploads" in api.request("GET", "/openapi.json").json()["paths"]
    assert api.request("POST", "/v1/health").json() == {"message": "Missing Authentication Token"}
    before = len(twin.twin.invocations)
    assert api.request("GET", "/v1/images").status == 403
    assert api.request("GET", "/v1/images", api_key="not-a-key").status == 403
    assert api.request("DELETE", "/v1/images/abc").json() == {"message": "Forbidden"}
    assert len(twin.twin.invocations) == before
    assert api.request("GET", "/v1/images", api_key=twin.api_key).status == 200
    # AND a presigned rendition URL opens for the owner, signed by the API's role
    uploaded = upload(twin, photo(7))
    shown = image(twin, uploaded["id"])
    assert twin.twin.get_presigned(shown["thumbnail_url"])[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("size", [(16, 16), (3000, 1)], ids=["tiny", "one-pixel-tall panorama"])
def test_tiny_images_and_thin_panoramas_are_labelled_within_rekognitions_limits(twin: TwinSession, size) -> None:
    # GIVEN an image with a side below Rekognition's 80 px minimum (which the twin enforces)
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, "PNG")
    # WHEN uploaded THEN it is labelled and ready, not failed
    uploaded = upload(twin, buffer.getvalue(), filename="small.png", content_type="image/png")
    assert image(twin, uploaded["id"])["status"] == "ready", twin.errors()


def test_the_originals_policy_tags_a_verified_original_and_records_its_lifecycle_removal(twin: TwinSession) -> None:
    # GIVEN a ready image under the stack's default policy (expire 30 days after upload)
    uploaded = upload(twin, photo(11))
    image_id = uploaded["id"]
    shown = image(twin, image_id)
    assert shown["status"] == "ready" and shown["original_url"] and shown["original_expires_at"], shown
    (compress_run,) = [
        i.event for i in twin.twin.invocations if i.function == "imgmgr-compress" and image_id in json.dumps(i.event)
    ]
    (key,) = {unquote_plus(record["s3"]["object"]["key"]) for record in compress_run["Records"]}
    bucket = twin.outputs["bucket_name"]
    s3 = twin.twin.admin("s3")
    # THEN compress tagged its original (under its own role) for the applied lifecycle rule
    tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    assert tags == [{"Key": "imgmgr-original", "Value": "replaceable"}]
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["originals-expire"]["Filter"]["And"]["Tags"] == tags
    # WHEN the rule removes it and S3 tells compress (the emulator runs no lifecycle: the event is sent here)
    s3.delete_object(Bucket=bucket, Key=key)
    event = json.loads(json.dumps(compress_run))
    for record in event["Records"]:
        record["eventName"] = "LifecycleExpiration:DeleteMarkerCreated"
    removed = twin.twin.invoke("imgmgr-compress", event)
    # THEN compress records it with its own role: no original offered, the image still ready
    assert removed.error is None, removed.error
    assert removed.result["images"][0]["outcome"] == "done", removed.result
    after = image(twin, image_id)
    assert (after["status"], after["original_url"]) == ("ready", None)
    assert after["original_removed_at"] is not None
