"""Building one outgoing email: a Message-ID derived from the idempotency key, and RFC 8058 unsubscribe headers.

The same key always gives the same Message-ID, so if a message is ever sent twice (see smtp.py for when that
can happen) receivers that collapse duplicates by Message-ID show it once.
"""

from __future__ import annotations

import hashlib
import hmac
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from urllib.parse import urlencode

from pydantic import BaseModel

from creator_studio.errors import InvalidInput
from creator_studio.store.db import utcnow


def message_id_for(idempotency_key: str, domain: str) -> str:
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def domain_of(address: str) -> str:
    if "@" not in address:
        raise InvalidInput(f"{address!r} is not an email address (the sender needs a domain for Message-IDs).")
    return address.rsplit("@", 1)[1].strip(">").lower()


class UnsubscribeLinks:
    """Signed one-click unsubscribe links: the token is an HMAC of (workspace, subscriber) under the secret key,
    so a link cannot be forged for another subscriber and needs no table."""

    def __init__(self, secret: bytes, base_url: str, mailto_domain: str | None = None) -> None:
        if len(secret) < 16:
            raise InvalidInput("The unsubscribe secret must be at least 16 bytes (set STUDIO_SECRET_KEY).")
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.mailto_domain = mailto_domain

    def token(self, workspace_id: str, subscriber_id: str) -> str:
        mac = hmac.new(self._secret, f"unsubscribe:{workspace_id}:{subscriber_id}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]

    def verify(self, workspace_id: str, subscriber_id: str, token: str) -> bool:
        return hmac.compare_digest(self.token(workspace_id, subscriber_id), token)

    def url(self, workspace_id: str, subscriber_id: str) -> str:
        query = urlencode({"w": workspace_id, "s": subscriber_id, "t": self.token(workspace_id, subscriber_id)})
        return f"{self.base_url}/email/unsubscribe?{query}"

    def headers(self, workspace_id: str, subscriber_id: str) -> dict[str, str]:
        """List-Unsubscribe with the HTTPS link first (RFC 8058 one-click), plus a mailto fallback."""
        targets = [f"<{self.url(workspace_id, subscriber_id)}>"]
        if self.mailto_domain:
            targets.append(f"<mailto:unsubscribe+{subscriber_id}@{self.mailto_domain}>")
        return {
            "List-Unsubscribe": ", ".join(targets),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }


class OutgoingEmail(BaseModel):
    """Everything needed to build the message; the idempotency key names the intended send."""

    idempotency_key: str
    workspace_id: str
    to_email: str
    to_name: str = ""
    subject: str
    body: str
    headers: dict[str, str] = {}


def build_message(email: OutgoingEmail, from_address: str, from_name: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((from_name, from_address)) if from_name else from_address
    message["To"] = formataddr((email.to_name, email.to_email)) if email.to_name else email.to_email
    message["Subject"] = email.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id_for(email.idempotency_key, domain_of(from_address))
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.body)
    return message
