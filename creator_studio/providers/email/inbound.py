"""Inbound email: replies from subscribers to the creator's newsletters and sequences.

A reply arrives as raw RFC 5322 bytes, from wherever the mail lands: the `InboundMailHandler` below is an aiosmtpd
handler (the creator's MX, or a relay, forwards `reply+<workspace>@<domain>` to it), and any other source (an MTA
pipe, a provider's inbound webhook that hands over the raw message) calls `parse_inbound_email` the same way.
Only the new text of a reply is kept: quoted history (`> ...` lines, the "On ... wrote:" block) is dropped, so the
Audience Hub sees what the subscriber wrote, and everything kept is untrusted data.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from pydantic import BaseModel

from creator_studio.errors import InvalidInput

MAX_TEXT_CHARS = 20_000
# "On Tue, 1 Dec 2026 at 09:00, Maya <maya@x> wrote:" (the common clients' attribution line) and the Outlook one.
_ATTRIBUTION = re.compile(r"^\s*(On .{0,300}wrote:|-----\s*Original Message\s*-----|From: .+)\s*$", re.IGNORECASE)
# The address replies come to: reply+<workspace id>@any-domain.
_REPLY_ADDRESS = re.compile(r"^reply\+([a-z0-9][a-z0-9_-]{0,63})@", re.IGNORECASE)


class InboundEmail(BaseModel):
    message_id: str
    from_address: str
    from_name: str
    subject: str
    text: str
    in_reply_to: str | None


def parse_inbound_email(raw: bytes) -> InboundEmail:
    """The sender, subject and new text of a reply; InvalidInput names what is missing."""
    message = message_from_bytes(raw, policy=policy.default)
    if not isinstance(message, EmailMessage):  # policy.default always builds EmailMessage
        raise InvalidInput("The inbound email could not be parsed.")
    name, address = parseaddr(str(message.get("From", "")))
    if "@" not in address:
        raise InvalidInput("The inbound email has no sender address (From header).")
    message_id = str(message.get("Message-ID", "")).strip()
    if not message_id:
        raise InvalidInput("The inbound email has no Message-ID header, so a redelivery could not be recognised.")
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        raise InvalidInput("The inbound email has no text/plain part to read.")
    text = strip_quoted(str(part.get_content()))
    if not text:
        raise InvalidInput("The inbound email has no new text (only quoted history).")
    in_reply_to = str(message.get("In-Reply-To", "")).strip() or None
    return InboundEmail(message_id=message_id, from_address=address.lower(), from_name=name or address,
                        subject=str(message.get("Subject", "")).strip(), text=text[:MAX_TEXT_CHARS],
                        in_reply_to=in_reply_to)


def strip_quoted(text: str) -> str:
    """The reply's own text: stops at the attribution line of the quoted message, skips `>` lines."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if _ATTRIBUTION.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def workspace_of(address: str) -> str | None:
    """`reply+maya-studio@replies.example` -> `maya-studio`; None for any other address."""
    match = _REPLY_ADDRESS.match(address.strip())
    return match.group(1).lower() if match else None


class InboundMailHandler:
    """An aiosmtpd handler accepting replies for `reply+<workspace>@...` and handing each to `deliver(workspace,
    raw)` (the Audience Hub inbox). A message it cannot read is refused with 550 and the reason, so the sending
    server reports it rather than it vanishing."""

    def __init__(self, deliver: Callable[[str, bytes], Any]) -> None:
        self._deliver = deliver

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if workspace_of(address) is None:
            return "550 5.1.1 Not a reply address (reply+<workspace>@...)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        try:
            for address in envelope.rcpt_tos:
                workspace = workspace_of(address)
                if workspace is not None:  # the database call blocks: off the event loop
                    await asyncio.to_thread(self._deliver, workspace, raw)
        except InvalidInput as exc:
            return f"550 5.6.0 {exc.message}"
        return "250 2.0.0 OK received"
