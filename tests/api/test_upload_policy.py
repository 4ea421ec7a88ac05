"""The local upload endpoint enforces its presigned policy (S3 would; nothing else does locally)."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from datetime import UTC, datetime

import pytest

from imgmgr.adapters.upload_policy import LocalPresigner, PolicyError
from tests.api.conftest import CHELSEA, declare, send


@pytest.fixture
def target(client, alice) -> dict:
    return declare(client, alice).json()["upload"]


def _stored(runtime) -> list[str]:
    return list(runtime.pipeline.ports.objects.list("uploads/"))


def test_a_valid_post_is_stored(client, runtime, target):
    assert send(client, target, CHELSEA.read_bytes()).status_code == 204
    assert _stored(runtime) == [target["fields"]["key"]]


def test_an_expired_policy_is_refused(client, runtime, target):
    # GIVEN a policy signed with the server's secret that expired an hour ago
    past = LocalPresigner(runtime.data.secret(), now=lambda: time.time() - 3600)
    fields = target["fields"]
    expired = past.presign_post(
        fields["key"], content_type="image/png", max_bytes=2_000_000, expires_in=60, base_url="http://testserver/"
    )
    # WHEN posting with it THEN 403 and nothing is stored
    response = send(client, {"url": target["url"], "fields": expired.fields}, CHELSEA.read_bytes())
    assert (response.status_code, response.json()["code"]) == (403, "Upload.PolicyExpired")
    assert _stored(runtime) == []


def test_a_file_above_the_policys_size_is_refused(client, runtime, target):
    response = send(client, target, b"\x89PNG" + b"\x00" * 2_000_000)
    assert (response.status_code, response.json()["code"]) == (413, "Upload.TooLarge")
    assert _stored(runtime) == []


def test_a_body_far_above_the_limit_is_refused_before_it_is_read(client, runtime, target):
    response = send(client, target, b"\x00" * 3_000_000)
    assert (response.status_code, response.json()["code"]) == (413, "Upload.TooLarge")
    assert _stored(runtime) == []


def test_another_content_type_is_refused(client, runtime, target):
    fields = target["fields"] | {"Content-Type": "image/jpeg"}
    response = send(client, target, CHELSEA.read_bytes(), fields=fields)
    assert (response.status_code, response.json()["code"]) == (403, "Upload.PolicyMismatch")
    assert _stored(runtime) == []


def test_another_key_is_refused(client, runtime, target):
    fields = target["fields"] | {"key": target["fields"]["key"].replace("alice", "bob")}
    response = send(client, target, CHELSEA.read_bytes(), fields=fields)
    assert (response.status_code, response.json()["code"]) == (403, "Upload.PolicyMismatch")
    assert _stored(runtime) == []


def test_a_policy_changed_by_the_client_is_refused(client, runtime, target):
    # GIVEN the policy rewritten to allow 1 GB, the signature kept
    policy = json.loads(base64.b64decode(target["fields"]["policy"]))
    policy["conditions"][2] = ["content-length-range", 1, 1_000_000_000]
    fields = target["fields"] | {"policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    response = send(client, target, CHELSEA.read_bytes(), fields=fields)
    assert (response.status_code, response.json()["code"]) == (403, "Upload.SignatureInvalid")
    assert _stored(runtime) == []


def test_a_post_without_signature_is_refused(client, runtime, target):
    fields = {k: v for k, v in target["fields"].items() if k != "x-imgmgr-signature"}
    response = send(client, target, CHELSEA.read_bytes(), fields=fields)
    assert (response.status_code, response.json()["code"]) == (403, "Upload.SignatureMissing")


def test_an_expired_download_url_is_refused(client, runtime, target):
    send(client, target, CHELSEA.read_bytes())
    past = LocalPresigner(runtime.data.secret(), now=lambda: time.time() - 3600)
    url = past.presign_get(target["fields"]["key"], expires_in=60, base_url="http://testserver/")
    response = client.get(url)
    assert (response.status_code, response.json()["code"]) == (403, "Object.UrlExpired")


def test_a_download_url_for_another_key_is_refused(client, runtime, target):
    send(client, target, CHELSEA.read_bytes())
    presigner = LocalPresigner(runtime.data.secret())
    url = presigner.presign_get(target["fields"]["key"], expires_in=60, base_url="http://testserver/")
    response = client.get(url.replace("/alice/", "/bob/"))
    assert (response.status_code, response.json()["code"]) == (403, "Object.SignatureInvalid")


def test_check_post_refuses_a_file_below_the_range():
    presigner = LocalPresigner(b"s" * 32)
    post = presigner.presign_post(
        "uploads/a/b/c.png", content_type="image/png", max_bytes=10, expires_in=60, base_url="/"
    )
    with pytest.raises(PolicyError, match="smaller than 1 bytes"):
        presigner.check_post(post.fields, 0)


def test_a_second_post_cannot_replace_the_original(client, runtime, target):
    # GIVEN the original received
    assert send(client, target, CHELSEA.read_bytes()).status_code == 204
    # WHEN the same still-valid policy is used again with other bytes
    response = send(client, target, b"\x89PNG other bytes")
    # THEN it is refused and the original is unchanged
    assert (response.status_code, response.json()["code"]) == (409, "Upload.AlreadyUploaded")
    assert runtime.pipeline.ports.objects.get(target["fields"]["key"]) == CHELSEA.read_bytes()


def test_an_upload_for_a_deleted_image_is_refused_and_not_stored(client, runtime, alice):
    # GIVEN a declared image deleted before its bytes arrive
    answer = declare(client, alice).json()
    assert client.delete(f"/v1/images/{answer['image']['id']}", headers=alice).status_code == 204
    # WHEN the still-valid policy is used THEN 409 and no orphan original is written
    response = send(client, answer["upload"], CHELSEA.read_bytes())
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (response.status_code, response.json()["code"]) == (409, "Upload.NotAwaited")
    assert _stored(runtime) == []


def test_an_upload_that_cannot_be_queued_is_taken_back_so_that_a_retry_succeeds(client, runtime, target, monkeypatch):
    # GIVEN a queue database that fails once
    enqueue = runtime.queue.enqueue

    def locked(*args, **kwargs):
        monkeypatch.setattr(runtime.queue, "enqueue", enqueue)
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(runtime.queue, "enqueue", locked)
    # WHEN the original is posted THEN 503 (retry later) and it is not kept
    failed = send(client, target, CHELSEA.read_bytes())
    assert (failed.status_code, failed.json()["code"]) == (503, "ImgMgr.Transient")
    assert failed.headers["retry-after"] == "1"
    assert _stored(runtime) == []
    # AND posting again stores and queues it
    assert send(client, target, CHELSEA.read_bytes()).status_code == 204
    assert _stored(runtime) == [target["fields"]["key"]]
    assert runtime.queue.lease().step == "compress"


def test_an_image_deleted_while_its_bytes_arrive_keeps_no_original(client, runtime, alice, monkeypatch):
    # GIVEN an image deleted by another request while its original is being written
    answer = declare(client, alice).json()
    objects = runtime.pipeline.ports.objects
    put = objects.put

    def put_then_delete(key, data, *, content_type):
        put(key, data, content_type=content_type)
        # What DELETE /v1/images/<id> does, before the object it removes was written.
        runtime.pipeline.ports.metadata.delete(answer["image"]["id"], at=datetime.now(UTC))

    monkeypatch.setattr(objects, "put", put_then_delete)
    # WHEN the POST finishes THEN 409, nothing stored and nothing queued
    response = send(client, answer["upload"], CHELSEA.read_bytes())
    assert (response.status_code, response.json()["code"]) == (409, "Upload.NotAwaited")
    assert _stored(runtime) == []
    assert runtime.queue.lease() is None


def test_a_form_whose_file_precedes_the_policy_is_refused(client, runtime, target):
    # GIVEN the file part first and the signed fields after it (S3 requires the file to be the last field)
    boundary = "b0undary"
    parts = [
        ("file", CHELSEA.read_bytes(), '; filename="a.png"'),
        *((n, v.encode(), "") for n, v in target["fields"].items()),
    ]
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n\r\n'.encode() + value + b"\r\n"
            for name, value, extra in parts
        )
        + f"--{boundary}--\r\n".encode()
    )
    # WHEN posting it THEN it is refused as unsigned (nothing signed came before the file) and nothing is stored
    response = client.post(
        target["url"], content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert (response.status_code, response.json()["code"]) == (403, "Upload.SignatureMissing")
    assert _stored(runtime) == []


def test_a_body_that_is_not_a_form_is_refused(client, runtime, target):
    response = client.post(target["url"], content=b"x" * 100, headers={"content-type": "application/octet-stream"})
    assert (response.status_code, response.json()["code"]) == (400, "Upload.FormInvalid")
    assert _stored(runtime) == []


def test_a_form_without_file_is_refused(client, runtime, target):
    # GIVEN the signed fields and a part under another name than "file"
    response = client.post(target["url"], data=target["fields"], files={"image": ("a.png", b"\x89PNG")})
    assert (response.status_code, response.json()["code"]) == (400, "Upload.FileMissing")
    assert _stored(runtime) == []


def _key_id(runtime, owner: str = "alice") -> str:
    """The id of the owner's only key."""
    (key_id,) = [key.key_id for key in runtime.keys.list() if key.owner == owner]
    return key_id


def test_a_policy_issued_to_a_key_revoked_since_is_refused(client, runtime, alice, target):
    # GIVEN a policy issued to alice's key, which is then revoked
    runtime.keys.revoke(_key_id(runtime))
    # WHEN the still-unexpired policy is used THEN 403 and nothing is stored
    response = send(client, target, CHELSEA.read_bytes())
    assert (response.status_code, response.json()["code"]) == (403, "Upload.CredentialRevoked")
    assert _stored(runtime) == []


def test_revoking_another_key_of_the_same_owner_leaves_the_policy_valid(client, runtime, alice, target):
    # GIVEN a second key of alice's, revoked after the policy was issued to the first
    _other, record = runtime.keys.create("alice")
    runtime.keys.revoke(record.key_id)
    # WHEN the policy is used THEN the upload is stored: the policy is bound to the key that asked for it
    assert send(client, target, CHELSEA.read_bytes()).status_code == 204
    assert _stored(runtime) == [target["fields"]["key"]]


def test_a_policy_names_the_key_it_was_issued_to_and_cannot_be_moved_to_another(client, runtime, alice, target):
    # GIVEN the policy's credential field, which is alice's key id
    assert target["fields"]["x-imgmgr-credential"] == _key_id(runtime)
    # WHEN the form names another key (a live one) THEN the signed policy refuses it
    _other, record = runtime.keys.create("alice")
    fields = target["fields"] | {"x-imgmgr-credential": record.key_id}
    response = send(client, target, CHELSEA.read_bytes(), fields=fields)
    assert (response.status_code, response.json()["code"]) == (403, "Upload.PolicyMismatch")
    assert _stored(runtime) == []


def test_a_policy_bound_to_no_key_is_refused_by_a_host_that_binds_them(runtime):
    # GIVEN a policy signed with the server's secret but naming no key
    bound = LocalPresigner(runtime.data.secret(), credential_live=runtime.keys.is_live)
    post = bound.presign_post("uploads/a/b/c.png", content_type="image/png", max_bytes=10, expires_in=60, base_url="/")
    # WHEN it is checked THEN it is refused: no key to check
    with pytest.raises(PolicyError, match="names no API key"):
        bound.check_post(post.fields, 5)
