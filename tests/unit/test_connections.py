"""Connections: encrypted tokens, several accounts per platform, key rotation, refresh, redaction, PKCE flows."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import respx
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

from creator_studio.cli import app
from creator_studio.connections import oauth
from creator_studio.connections.crypto import cipher_for, key_file, load_keys, write_keys
from creator_studio.connections.flows import connect_mastodon, finish_oauth
from creator_studio.connections.models import ConnectionRow
from creator_studio.connections.service import ConnectionService, Credentials
from creator_studio.errors import ConfigurationError, InvalidInput, NotFound
from creator_studio.logs import JsonFormatter
from creator_studio.settings import Settings
from creator_studio.store.db import Base, Database
from creator_studio.studio import Studio
from tests.conftest import make_settings

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", model="offline")


@pytest.fixture
def service(settings: Settings) -> ConnectionService:
    settings.home.mkdir(parents=True)
    db = Database(settings.sqlalchemy_url())
    Base.metadata.create_all(db.engine)
    return ConnectionService(db, lambda: cipher_for(settings), clock=lambda: NOW)


def creds(token: str, refresh: str | None = None) -> Credentials:
    return Credentials(access_token=SecretStr(token), refresh_token=SecretStr(refresh) if refresh else None,
                       client_id="client")


def test_key_file_is_generated_private(settings: Settings) -> None:
    keys = load_keys(settings)
    path = key_file(settings)
    assert len(keys) == 1 and Fernet(keys[0].encode())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keys(settings) == keys  # reused, not regenerated


def test_tokens_are_encrypted_at_rest_and_accounts_are_many(service: ConnectionService,
                                                            settings: Settings) -> None:
    service.add("ws", "x", handle="@maya", account_id="1", credentials=creds("secret-access-token-1"),
                scopes=["tweet.write"])
    service.add("ws", "x", handle="maya_shop", account_id="2", credentials=creds("secret-access-token-2"))
    raw = Path(settings.sqlalchemy_url().removeprefix("sqlite:///")).read_bytes()
    assert b"secret-access-token" not in raw
    assert [c.handle for c in service.list("ws", "x")] == ["maya", "maya_shop"]
    assert service.get("ws", "x").handle == "maya"
    second = service.get("ws", "x", "@Maya_Shop")
    assert service.credentials(second).access_token.get_secret_value() == "secret-access-token-2"  # type: ignore[union-attr]
    assert service.get("ws", "x", "maya").scopes == ["tweet.write"]
    with pytest.raises(NotFound, match="connected: maya, maya_shop"):
        service.get("ws", "x", "nobody")
    with pytest.raises(NotFound, match="studio connect bluesky"):
        service.get("ws", "bluesky")
    service.remove("ws", "x", "maya")
    assert [c.handle for c in service.list("ws")] == ["maya_shop"]


def test_rotate_key_re_encrypts_every_token(service: ConnectionService, settings: Settings) -> None:
    service.add("ws", "mastodon", handle="maya", account_id="1", credentials=creds("tok-a"))
    service.add("ws", "x", handle="maya", account_id="2", credentials=creds("tok-b"))
    old_key = load_keys(settings)[0]
    new_key = Fernet.generate_key().decode()
    assert service.rotate_key([new_key], lambda keys: write_keys(key_file(settings), keys)) == 2
    assert load_keys(settings) == [new_key]
    with service._db.transaction() as session:  # the rows decrypt with the new key only
        rows = list(session.scalars(select(ConnectionRow)))
    for row in rows:
        assert json.loads(Fernet(new_key.encode()).decrypt(row.secrets_ciphertext.encode()))["access_token"]
        with pytest.raises(InvalidToken):
            Fernet(old_key.encode()).decrypt(row.secrets_ciphertext.encode())
    fresh = ConnectionService(service._db, lambda: cipher_for(settings))
    assert fresh.credentials(fresh.get("ws", "x")).access_token.get_secret_value() == "tok-b"  # type: ignore[union-attr]


def test_wrong_key_is_a_clear_error(service: ConnectionService, settings: Settings) -> None:
    service.add("ws", "x", handle="maya", account_id="1", credentials=creds("t"))
    write_keys(key_file(settings), [Fernet.generate_key().decode()])
    other = ConnectionService(service._db, lambda: cipher_for(settings))
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        other.credentials(other.get("ws", "x"))
    bad = Settings(home=settings.home, secret_key=SecretStr("not-a-key"))
    with pytest.raises(ConfigurationError, match="not a Fernet key"):
        cipher_for(bad)


def test_refreshed_before_expiry_only(service: ConnectionService) -> None:
    calls: list[str] = []

    def refresher(connection: object, current: Credentials) -> tuple[Credentials, datetime]:
        calls.append("refresh")
        return creds("new-token", "r2"), NOW + timedelta(hours=2)

    service.add("ws", "x", handle="far", account_id="1", credentials=creds("t1", "r"),
                expires_at=NOW + timedelta(hours=1))
    service.add("ws", "x", handle="near", account_id="2", credentials=creds("t2", "r"),
                expires_at=NOW + timedelta(minutes=3))
    _, far = service.fresh_credentials(service.get("ws", "x", "far"), refresher)
    assert calls == [] and far.access_token.get_secret_value() == "t1"  # type: ignore[union-attr]
    connection, near = service.fresh_credentials(service.get("ws", "x", "near"), refresher)
    assert calls == ["refresh"] and near.access_token.get_secret_value() == "new-token"  # type: ignore[union-attr]
    assert connection.expires_at == NOW + timedelta(hours=2)
    stored = service.credentials(service.get("ws", "x", "near"))
    assert stored.refresh_token.get_secret_value() == "r2"  # type: ignore[union-attr]


def test_tokens_never_reach_the_logs(service: ConnectionService, caplog: pytest.LogCaptureFixture) -> None:
    credentials = creds("ya29.super-secret-token", "refresh-secret-123456")
    assert "super-secret" not in repr(credentials) and "super-secret" not in str(credentials)
    record = logging.LogRecord("creator_studio.x", logging.WARNING, __file__, 1,
                               "refresh failed for %s with Authorization: Bearer ya29.super-secret-token "
                               "refresh_token=refresh-secret-123456", (credentials,), None)
    line = JsonFormatter().format(record)
    assert "super-secret" not in line and "refresh-secret-123456" not in line
    connection = service.add("ws", "x", handle="maya", account_id="1", credentials=credentials)
    assert "super-secret" not in connection.model_dump_json()


def test_pkce_start_and_code_from_redirect() -> None:
    started = oauth.start("x", "client-1", "http://127.0.0.1:8400/oauth/callback")
    query = parse_qs(urlparse(started.url).query)
    assert started.url.startswith("https://x.com/i/oauth2/authorize?")
    assert query["code_challenge_method"] == ["S256"] and query["state"] == [started.state]
    expected = base64.urlsafe_b64encode(hashlib.sha256(started.verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == [expected] and 43 <= len(started.verifier) <= 128
    assert "offline.access" in query["scope"][0].split()
    assert oauth.code_from(f"http://127.0.0.1:8400/oauth/callback?state={started.state}&code=abc", started.state) \
        == "abc"
    assert oauth.code_from("  abc  ", started.state) == "abc"
    with pytest.raises(InvalidInput, match="state"):
        oauth.code_from("http://127.0.0.1/cb?state=other&code=abc", started.state)
    with pytest.raises(InvalidInput, match="access_denied"):
        oauth.code_from("http://127.0.0.1/cb?error=access_denied", started.state)


@respx.mock
def test_oauth_code_exchange_identity_and_refresh(service: ConnectionService) -> None:
    token = respx.post("https://api.x.com/2/oauth2/token").mock(side_effect=[
        httpx.Response(200, json={"token_type": "bearer", "expires_in": 7200, "access_token": "acc-1",
                                  "scope": "tweet.write users.read offline.access", "refresh_token": "ref-1"}),
        httpx.Response(200, json={"token_type": "bearer", "expires_in": 7200, "access_token": "acc-2",
                                  "scope": "tweet.write users.read offline.access"}),
        httpx.Response(400, json={"error": "invalid_request",
                                  "error_description": "Value passed for the token was invalid."})])
    respx.get("https://api.x.com/2/users/me").respond(json={"data": {"id": "2244994945", "name": "Maya",
                                                                     "username": "maya"}})
    started = oauth.start("x", "client-1", "http://127.0.0.1/cb")
    with httpx.Client() as http:
        connection = finish_oauth(service, "ws", "x", started=started, pasted="the-code", client_id="client-1",
                                  client_secret="shh", redirect_uri="http://127.0.0.1/cb", http=http,
                                  now=lambda: NOW)
        sent = parse_qs(token.calls[0].request.content.decode())
        assert sent["code_verifier"] == [started.verifier] and sent["grant_type"] == ["authorization_code"]
        assert token.calls[0].request.headers["Authorization"].startswith("Basic ")
        assert (connection.handle, connection.account_id) == ("maya", "2244994945")
        assert connection.scopes == ["tweet.write", "users.read", "offline.access"]
        assert connection.expires_at == NOW + timedelta(hours=2)
        grant = oauth.refresh("x", service.credentials(connection), http=http, now=NOW)
        assert grant.credentials.access_token.get_secret_value() == "acc-2"  # type: ignore[union-attr]
        assert grant.credentials.refresh_token.get_secret_value() == "ref-1"  # type: ignore[union-attr]  # kept
        from creator_studio.providers.reliability import ReauthorizeRequired

        with pytest.raises(ReauthorizeRequired, match="studio connect x"):
            oauth.refresh("x", service.credentials(connection), http=http, now=NOW)


@respx.mock
def test_connect_mastodon_and_cli_list_remove(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "cli-home"))
    respx.get("https://mastodon.test/api/v1/accounts/verify_credentials").respond(
        json={"id": "109", "username": "maya", "acct": "maya"})
    runner = CliRunner()
    result = runner.invoke(app, ["connect", "mastodon", "--instance", "https://mastodon.test",
                                 "--token", "masto-secret-token-xyz"])
    assert result.exit_code == 0, result.output
    assert "Connected mastodon account maya" in result.output and "masto-secret" not in result.output
    listed = runner.invoke(app, ["connections", "list"])
    assert "maya" in listed.output and "mastodon" in listed.output and "masto-secret" not in listed.output
    rotated = runner.invoke(app, ["connections", "rotate-key"])
    assert "Re-encrypted 1 connection" in rotated.output
    removed = runner.invoke(app, ["connections", "remove", "mastodon", "maya"])
    assert removed.exit_code == 0 and "Removed mastodon account maya" in removed.output
    missing = runner.invoke(app, ["connections", "remove", "mastodon", "maya"])
    assert missing.exit_code == 2


@respx.mock
def test_connect_mastodon_bad_token(service: ConnectionService) -> None:
    respx.get("https://mastodon.test/api/v1/accounts/verify_credentials").respond(
        401, json={"error": "The access token is invalid"})
    from creator_studio.providers.reliability import ReauthorizeRequired

    with pytest.raises(ReauthorizeRequired):
        connect_mastodon(service, "ws", instance_url="mastodon.test", access_token="bad")
    assert service.list("ws") == []


def test_rotate_key_re_encrypts_webhook_secrets_too(studio: Studio) -> None:
    """Rotation as `studio connections rotate-key` runs it: the webhook signing secrets (same key) are re-encrypted
    through the events service while both keys decrypt, so a Studio opened afterwards with only the new key still
    signs deliveries."""
    created = studio.events.webhooks.add("default", "https://example.com/hook", ["revenue.*"], secret="whsec_rot")
    settings = studio.settings
    new_key = Fernet.generate_key().decode()
    studio.connections.rotate_key([new_key], lambda keys: write_keys(key_file(settings), keys),
                                  [studio.events.webhooks.reencrypt_secrets])
    assert load_keys(settings) == [new_key]
    home = settings.home
    studio.close()
    reopened = Studio.open(make_settings(home), migrate_schema=False)
    try:
        assert reopened.events.webhooks._signing_secret(created.id) == "whsec_rot"
    finally:
        reopened.close()
