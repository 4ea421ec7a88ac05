"""S3Presigner: its client is built on the first presign, and a presigned POST pins key, type and size."""

from __future__ import annotations

import boto3

from lambdas.adapters.aws.upload_policy import PRESIGN_CONFIG, S3Presigner

BUCKET = "imgmgr-test-bucket"


def _counting_factory(built: list[object]):
    def factory():
        client = boto3.client("s3", region_name="us-east-1", config=PRESIGN_CONFIG)
        built.append(client)
        return client

    return factory


def test_no_client_is_built_before_the_first_presign():
    # GIVEN a presigner without a client
    built: list[object] = []
    S3Presigner(BUCKET, client_factory=_counting_factory(built))
    # THEN constructing it built none
    assert built == []


def test_the_first_presign_builds_one_client_and_later_ones_reuse_it(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    built: list[object] = []
    presigner = S3Presigner(BUCKET, client_factory=_counting_factory(built))
    # WHEN it presigns a POST and two GETs
    post = presigner.presign_post("uploads/a/b.png", content_type="image/png", max_bytes=10, expires_in=60)
    presigner.presign_get("renditions/a/t.jpg", expires_in=60)
    presigner.presign_get("renditions/a/p.jpg", expires_in=60)
    # THEN one client signed all three, and the POST carries the pinned fields
    assert len(built) == 1 and presigner.client is built[0]
    assert (post.fields["key"], post.fields["Content-Type"]) == ("uploads/a/b.png", "image/png")


def test_a_given_client_is_used_as_is():
    client = boto3.client("s3", region_name="us-east-1", config=PRESIGN_CONFIG)
    assert S3Presigner(BUCKET, client=client).client is client
