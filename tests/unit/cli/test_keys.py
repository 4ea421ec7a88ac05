"""Local API keys: hashed at rest, shown once, revocable; and the keys commands."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from imgmgr.cli import app
from imgmgr.keys import KeyStore, KeyStoreError


def test_a_created_key_names_its_owner(tmp_path):
    keys = KeyStore(tmp_path / "keys.sqlite3")
    key, record = keys.create("alice")
    assert keys.owner_of(key) == "alice"
    assert record.owner == "alice"


def test_the_key_itself_is_never_stored(tmp_path):
    keys = KeyStore(tmp_path / "keys.sqlite3")
    key, _ = keys.create("alice")
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    assert key.encode() not in stored


def test_a_revoked_key_names_nobody(tmp_path):
    keys = KeyStore(tmp_path / "keys.sqlite3")
    key, record = keys.create("alice")
    keys.revoke(record.key_id)
    assert keys.owner_of(key) is None


def test_an_owner_that_cannot_be_a_key_segment_is_refused(tmp_path):
    with pytest.raises(KeyStoreError, match=r"owner '\.\./x' must be"):
        KeyStore(tmp_path / "keys.sqlite3").create("../x")


def test_keys_commands_create_list_and_revoke(tmp_path):
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    created = runner.invoke(app, ["keys", "create", "--owner", "alice", *data])
    key = created.stdout.strip().splitlines()[-1]
    key_id = key.split("_")[1]
    listed = runner.invoke(app, ["keys", "list", *data])
    revoked = runner.invoke(app, ["keys", "revoke", key_id, *data])
    assert created.exit_code == 0 and key.startswith("imk_")
    assert key_id in listed.stdout and "alice" in listed.stdout
    assert revoked.exit_code == 0
    assert KeyStore(tmp_path / "keys.sqlite3").owner_of(key) is None


def test_client_commands_need_an_api_key(monkeypatch):
    monkeypatch.delenv("IMGMGR_API_KEY", raising=False)
    result = CliRunner().invoke(app, ["ls"])
    assert result.exit_code == 2
    assert "API key is required" in result.output


def test_keys_list_prints_a_name_that_breaks_markup(tmp_path):
    # GIVEN a key whose note holds a closing tag that matches nothing
    KeyStore(tmp_path / "keys.sqlite3").create("alice", name="trip[/]laptop")
    # WHEN listing keys THEN the note is printed as it is
    result = CliRunner().invoke(app, ["keys", "list", "--data-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.exception
    assert "trip[/]laptop" in result.output
