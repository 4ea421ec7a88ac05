"""``imgmgr serve`` as a user runs it: first key printed, CLI upload of a real photo, clean SIGTERM."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import httpx

from tests.e2e.support import CHELSEA, PROJECT_DIR


def test_first_run_prints_a_key_that_the_api_accepts(server):
    # GIVEN an empty data directory WHEN the server starts
    server.start()
    # THEN it printed a key and the URL, and the key works
    match = re.search(r"open (http://127\.0\.0\.1:\d+/)#key=(imk_\S+)", server.output())
    assert match is not None, server.output()
    response = httpx.get(f"{server.url}/v1/stats", headers={"x-api-key": match.group(2)})
    assert response.status_code == 200


def test_cli_upload_of_a_real_photo_reaches_ready_under_its_category(server, api_key):
    server.start()
    # WHEN uploading Chelsea the cat with the CLI and waiting
    upload = subprocess.run(
        [sys.executable, "-m", "imgmgr", "upload", str(CHELSEA), "--wait", "--timeout", "60"],
        env={"IMGMGR_ENDPOINT": server.url, "IMGMGR_API_KEY": api_key, "PYTHONPATH": str(PROJECT_DIR), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # THEN it exits 0 and the image is ready, found under "Animals and Pets" by the offline labeler
    assert upload.returncode == 0, upload.stdout + upload.stderr + server.output()
    assert "1 uploaded" in upload.stdout
    found = httpx.get(
        f"{server.url}/v1/images", params={"category": "Animals and Pets"}, headers={"x-api-key": api_key}
    ).json()
    assert [item["filename"] for item in found["items"]] == ["chelsea.png"]
    assert found["items"][0]["status"] == "ready"


def test_cli_upload_exits_non_zero_when_a_file_fails(server, api_key, tmp_path):
    server.start()
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_bytes(b"this is text, not a PNG")
    upload = subprocess.run(
        [sys.executable, "-m", "imgmgr", "upload", str(not_an_image), "--wait", "--timeout", "60"],
        env={"IMGMGR_ENDPOINT": server.url, "IMGMGR_API_KEY": api_key, "PYTHONPATH": str(PROJECT_DIR), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert upload.returncode == 1
    assert "failed" in upload.stdout


def test_sigterm_stops_the_server_cleanly(server):
    server.start()
    assert server.stop() == 0
    assert "imgmgr: stopped" in server.output()


def test_a_request_for_another_host_is_refused_and_links_name_the_server_itself(server, api_key):
    server.start()
    data = CHELSEA.read_bytes()
    body = {
        "filename": "c.png",
        "content_type": "image/png",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    headers = {"x-api-key": api_key}
    # GIVEN a request that names another host (a DNS-rebinding page, a forged header)
    forged = httpx.post(f"{server.url}/v1/uploads", json=body, headers={**headers, "Host": "evil.example:666"})
    # THEN it is refused before anything runs: no upload link to that host is ever handed out
    assert forged.status_code == 400 and "evil.example" not in forged.text
    # AND the server's own names work, and their links point at the server
    for name in ("127.0.0.1", "localhost"):
        answer = httpx.post(f"{server.url}/v1/uploads", json=body, headers={**headers, "Host": f"{name}:{server.port}"})
        assert answer.status_code in (200, 201), answer.text
        assert answer.json()["upload"]["url"].startswith(f"http://{name}:{server.port}/")
