"""R4 secrets: OAuth tokens are encrypted at rest and no secret reaches the logs.

Known secret values are configured (OpenAI key, Stripe key and webhook secret, a connection's OAuth tokens, an
API token); a few flows run with logging at DEBUG into a file (Studio's own JSON handler, plus a raw handler on
the root logger for every library); then every log line and the database files are scanned.
Also the audit log's hash chain, from the outside: an event row edited with raw SQL makes
`studio audit verify` exit 1 naming that row.

Run: .venv/bin/pytest -q -p no:cacheprovider tests/reliability/test_secrets.py
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr

from creator_studio.api.app import create_app
from creator_studio.api.tokens import TokenService
from creator_studio.connections.service import Credentials
from creator_studio.logs import configure_logging
from creator_studio.providers.payments.webhooks import sign
from creator_studio.runs.runner import Runner
from creator_studio.settings import Settings
from creator_studio.studio import Studio
from tests.reliability.figures import report

pytestmark = pytest.mark.integration

OPENAI_KEY = "sk-reliabilityOpenAIkey0123456789abcdef"
STRIPE_KEY = "sk_test_reliabilityStripeKey4242424242"
WEBHOOK_SECRET = "whsec_reliabilityWebhookSecret9876"
ACCESS_TOKEN = "ya29.reliabilityAccessToken-ZXY987"
REFRESH_TOKEN = "1//reliabilityRefreshToken-QRS654"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
CLIENT_SECRET = "reliabilityClientSecretUVW321"


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """Studio's logging at DEBUG into a file, and a raw (unredacted) copy of every library's records."""
    path = tmp_path / "debug.log"
    studio_logger, root = logging.getLogger("creator_studio"), logging.getLogger()
    saved = (studio_logger.handlers[:], studio_logger.level, studio_logger.propagate, root.handlers[:], root.level)
    configure_logging("DEBUG", as_json=True)
    stream = path.open("a", encoding="utf-8")
    studio_logger.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    raw = logging.FileHandler(path, encoding="utf-8")
    raw.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root.addHandler(raw)
    root.setLevel(logging.DEBUG)
    studio_logger.propagate = True  # the raw handler sees Studio's records too, before any redaction
    try:
        yield path
    finally:
        root.removeHandler(raw)
        raw.close()
        stream.close()
        studio_logger.handlers[:], studio_logger.level, studio_logger.propagate = saved[0], saved[1], saved[2]
        root.handlers[:], root.level = saved[3], saved[4]


def test_secrets_are_encrypted_at_rest_and_absent_from_debug_logs(studio: Studio, runner: Runner,
                                                                  debug_log: Path) -> None:
    settings = studio.settings
    settings.openai_api_key, settings.stripe_api_key = SecretStr(OPENAI_KEY), SecretStr(STRIPE_KEY)
    settings.stripe_webhook_secret = SecretStr(WEBHOOK_SECRET)
    fernet_key = Fernet.generate_key().decode()
    settings.secret_key = SecretStr(fernet_key)

    # A connection with OAuth tokens, read back through the service.
    connection = studio.connections.add("default", "mastodon", handle="maya@mastodon.social", account_id="109",
                                        credentials=Credentials(access_token=SecretStr(ACCESS_TOKEN),
                                                                refresh_token=SecretStr(REFRESH_TOKEN),
                                                                app_password=SecretStr(APP_PASSWORD),
                                                                client_id="cid",
                                                                client_secret=SecretStr(CLIENT_SECRET)))
    creds = studio.connections.credentials(connection)
    assert creds.access_token is not None and creds.access_token.get_secret_value() == ACCESS_TOKEN
    logging.getLogger("creator_studio.reliability").debug("connected %s with %r", connection.handle, creds)

    # Runs (a side effect through approvals and the ledger), the API with a good and a bad token, webhooks.
    for goal in ("Draft a LinkedIn post about spreadsheet refugees and publish it now", "what's my MRR?"):
        assert runner.start(goal, auto_approve=True).status == "completed"
    # An OpenAI-compatible endpoint that refuses connections: the failure paths log exceptions with tracebacks.
    settings.model, settings.openai_base_url = "openai:gpt-4o-mini", "http://127.0.0.1:9/v1"
    settings.model_max_retries, settings.router_threshold = 0, 1.01
    studio.__dict__.pop("models", None)  # `models` is a cached_property: rebuilt from the new settings
    failing = Runner(studio)
    try:
        assert failing.start("what's my MRR?", auto_approve=True).status == "failed"
    finally:
        failing.close()
    api_token = TokenService(studio.db).create("default", role="owner").token
    with TestClient(create_app(studio, runner=runner), raise_server_exceptions=False) as client:
        assert client.get("/api/content/drafts", headers={"Authorization": f"Bearer {api_token}"}).status_code == 200
        assert client.get("/api/content/drafts",
                          headers={"Authorization": f"Bearer {api_token[:-4]}XXXX"}).status_code == 401
        body = b'{"id": "evt_secret_1", "type": "checkout.session.completed", "created": 1, "data": {}}'
        assert client.post("/api/webhooks/stripe/default", content=body,
                           headers={"stripe-signature": sign(body, "whsec_wrong", int(time.time()))}
                           ).status_code == 400
    for handler in logging.getLogger().handlers + logging.getLogger("creator_studio").handlers:
        handler.flush()

    secrets = {"openai_api_key": OPENAI_KEY, "stripe_api_key": STRIPE_KEY, "webhook_secret": WEBHOOK_SECRET,
               "access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN, "app_password": APP_PASSWORD,
               "client_secret": CLIENT_SECRET, "api_token": api_token, "fernet_key": fernet_key}
    lines = debug_log.read_text(encoding="utf-8").splitlines()
    found = {name: sum(value in line for line in lines) for name, value in secrets.items()}
    # Not vacuous: the flows did log at DEBUG, including the request lines and a record carrying the credentials.
    assert len(lines) >= 5 and any("/api/content/drafts" in line for line in lines)
    assert any("Traceback" in line or "traceback" in line for line in lines)  # the failing model call was logged
    assert any("maya@mastodon.social" in line for line in lines)
    assert found == dict.fromkeys(secrets, 0), found

    # At rest: the connection row holds a Fernet token, and no secret is anywhere in the database files.
    home = settings.home
    with sqlite3.connect(home / "studio.db") as raw_db:
        row = raw_db.execute("SELECT * FROM connections WHERE handle = 'maya@mastodon.social'").fetchone()
    assert row is not None and not any(ACCESS_TOKEN in str(v) or REFRESH_TOKEN in str(v) for v in row)
    ciphertext = next(v for v in row if isinstance(v, str) and v.startswith("gAAAA"))  # a Fernet token
    assert ACCESS_TOKEN in Fernet(fernet_key.encode()).decrypt(ciphertext.encode()).decode()
    stored = b"".join(p.read_bytes() for p in home.glob("*.db*"))
    in_db = {name: value.encode() in stored for name, value in secrets.items()}
    assert not any(in_db.values()), in_db
    report("r4_secrets", {"secrets": len(secrets), "log_lines_scanned": len(lines),
                          "occurrences_in_logs": sum(found.values()),
                          "occurrences_in_db_files": sum(in_db.values()), "token_row_encrypted": True})


def test_audit_verify_names_a_row_edited_with_raw_sql(tmp_path: Path) -> None:
    home = tmp_path / "home"
    studio = Studio.open(Settings(home=home, model="offline"))
    try:
        ids = [studio.events.publish("revenue.purchase_completed", "default",
                                     {"order_id": f"cs_{n}", "amount_cents": 4900, "currency": "usd"},
                                     source="stripe").id for n in range(5)]
    finally:
        studio.close()
    env = {**os.environ, "STUDIO_HOME": str(home), "STUDIO_MODEL": "offline", "COLUMNS": "300"}
    env.pop("STUDIO_REDIS_URL", None)
    studio_cli = [str(Path(sys.executable).with_name("studio")), "audit", "verify"]
    clean = subprocess.run(studio_cli, env=env, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    with sqlite3.connect(home / "studio.db") as raw_db:  # an attacker with the database file, not the app
        changed = raw_db.execute("UPDATE event_log SET data = replace(data, '4900', '49') WHERE event_id = ?",
                                 (ids[3],)).rowcount
    assert changed == 1
    tampered = subprocess.run(studio_cli, env=env, capture_output=True, text=True, timeout=120)
    assert tampered.returncode == 1
    assert "TAMPERED" in tampered.stdout and ids[3] in tampered.stdout, tampered.stdout
    report("r4_audit_chain", {"events": len(ids), "edited_rows": 1, "verify_exit": tampered.returncode,
                              "edited_row_named": True})
