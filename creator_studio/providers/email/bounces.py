"""Bounces and complaints: parse the reports mail servers send back into suppressions.

- Delivery status notifications (RFC 3464, `multipart/report; report-type=delivery-status`): `Action: failed`
  with a 5.x.x status is a hard bounce (stop mailing the address); 4.x.x or `delayed` is a soft bounce
  (nothing to do; the sender already retries).
- Feedback reports (ARF, RFC 5965, `report-type=feedback-report`): the recipient marked the message as spam;
  they are unsubscribed at once.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from typing import Literal

from pydantic import BaseModel

ReportKind = Literal["hard_bounce", "soft_bounce", "complaint"]


class DeliveryReport(BaseModel):
    kind: ReportKind
    recipient: str
    status: str | None = None  # the DSN status code, e.g. 5.1.1
    diagnostic: str | None = None
    original_message_id: str | None = None


def parse_report(raw: bytes) -> list[DeliveryReport]:
    """Every per-recipient outcome in one bounce or complaint message; [] for a message that is neither."""
    message = message_from_bytes(raw, policy=policy.default)
    if message.get_content_type() != "multipart/report":
        return []
    param = message.get_param("report-type")
    report_type = param.lower() if isinstance(param, str) else ""
    original_id = _original_message_id(message)
    if report_type == "delivery-status":
        return _dsn(message, original_id)
    if report_type == "feedback-report":
        return _arf(message, original_id)
    return []


def _parts(message: Message) -> list[Message]:
    return list(message.walk())


def _dsn(message: Message, original_id: str | None) -> list[DeliveryReport]:
    reports: list[DeliveryReport] = []
    for part in _parts(message):
        if part.get_content_type() != "message/delivery-status":
            continue
        # The body is a block of per-message fields and one block per recipient (each parsed as a Message).
        payload = part.get_payload()
        blocks = [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
        for block in blocks[1:] if len(blocks) > 1 else blocks:
            recipient = _address(block.get("Final-Recipient") or block.get("Original-Recipient"))
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", "")).strip() or None
            if not recipient or action not in ("failed", "delayed"):
                continue
            hard = action == "failed" and (status or "5").startswith("5")
            reports.append(DeliveryReport(
                kind="hard_bounce" if hard else "soft_bounce", recipient=recipient, status=status,
                diagnostic=str(block.get("Diagnostic-Code", "")).strip() or None,
                original_message_id=original_id,
            ))
    return reports


def _arf(message: Message, original_id: str | None) -> list[DeliveryReport]:
    for part in _parts(message):
        if part.get_content_type() != "message/feedback-report":
            continue
        fields = _fields(part)
        recipient = _address(fields.get("original-rcpt-to"))
        if recipient is None:
            recipient = _original_header(message, "To")
        if recipient:
            return [DeliveryReport(kind="complaint", recipient=recipient,
                                   diagnostic=fields.get("feedback-type"), original_message_id=original_id)]
    return []


def _fields(part: Message) -> dict[str, str]:
    """The `Name: value` lines of a feedback-report part (the email package keeps it as text or a Message)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        items: list[tuple[str, str]] = []
        for block in payload:
            if isinstance(block, Message):
                items.extend((k, str(v)) for k, v in block.items())
    else:
        text = payload if isinstance(payload, str) else ""
        items = [tuple(line.split(":", 1)) for line in text.splitlines() if ":" in line]  # type: ignore[misc]
    return {k.strip().lower(): v.strip() for k, v in items}


def _address(field: object) -> str | None:
    """`rfc822; someone@example.com` -> someone@example.com."""
    if field is None:
        return None
    value = str(field).split(";", 1)[-1].strip().strip("<>").lower()
    return value if "@" in value else None


def _original_message_id(message: Message) -> str | None:
    value = _original_header(message, "Message-ID")
    return value


def _original_header(message: Message, name: str) -> str | None:
    for part in _parts(message):
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, (Message, EmailMessage)) and inner.get(name):
                return str(inner.get(name)).strip()
            if isinstance(payload, str):
                for line in payload.splitlines():
                    if line.lower().startswith(name.lower() + ":"):
                        return line.split(":", 1)[1].strip()
    return None
