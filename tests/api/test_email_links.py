"""The links in real emails, followed the way a reader (or their mail client) does: confirm a double opt-in,
open the unsubscribe page, press the button, and RFC 8058 one-click; forged links change nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from creator_studio.api.app import create_app
from creator_studio.providers.email.factory import public_url
from creator_studio.providers.email.optin import DoubleOptIn
from creator_studio.providers.email.smtp_provider import SmtpEmailProvider
from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE
from creator_studio.studio import Studio
from tests.conftest import make_settings
from tests.servers_email_payments import SmtpServer, smtp_server  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture
def mail_studio(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Studio]:  # noqa: F811
    settings = make_settings(tmp_path / "home", providers="real", secret_key="k" * 32,
                             smtp_url=smtp_server.url(rate=100, burst=10))
    studio = Studio.open(settings, migrate_schema=False)
    studio.workspaces.create("maya", "Maya Chen Studio", DEFAULT_TIMEZONE, DEFAULT_BRAND)
    yield studio
    studio.close()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_confirm_then_unsubscribe_through_the_links(mail_studio: Studio, smtp_server: SmtpServer) -> None:  # noqa: F811
    mailer = mail_studio.email_provider
    assert isinstance(mailer, SmtpEmailProvider)
    client = TestClient(create_app(mail_studio))
    optin = DoubleOptIn(mail_studio.db, mailer, public_url(mail_studio.settings))
    optin.request("maya", "nia@readers.test", "Nia", list_name="Maya's weekly")
    [confirmation] = smtp_server.mailbox.to("nia@readers.test")
    link = re.search(r"http://\S+/email/confirm\?token=\S+", confirmation.get_content())
    assert link is not None

    forged = client.get("/email/confirm", params={"token": "not-the-real-token"})
    assert forged.status_code == 422 and "not valid" in forged.json()["detail"]
    assert mailer.list_subscribers("maya") == []
    confirmed = client.get(_path(link.group(0)))
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
    [subscriber] = mailer.list_subscribers("maya")
    assert subscriber.status == "subscribed"

    unsubscribe_url = mailer.links.url("maya", subscriber.id)
    page = client.get(_path(unsubscribe_url))
    assert page.status_code == 200 and "<form method=post" in page.text
    assert mailer.list_subscribers("maya")[0].status == "subscribed"  # opening the page changes nothing
    tampered = _path(unsubscribe_url).replace(subscriber.id, "sub_someoneelse")
    assert client.post(tampered).status_code == 422
    one_click = client.post(_path(unsubscribe_url), data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and "unsubscribed" in one_click.text
    assert mailer.list_subscribers("maya")[0].status == "unsubscribed"


def test_email_links_do_not_exist_without_a_mail_server(studio: Studio) -> None:
    client = TestClient(create_app(studio))
    response = client.get("/email/confirm", params={"token": "whatever-token"})
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/problem+json")
