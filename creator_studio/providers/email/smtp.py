"""Talking to one mail server over SMTP (stdlib smtplib), reporting *how far* a failed send got.

How far matters for exactly-once: a failure before the message body was handed over (connect, EHLO, MAIL,
RCPT, or a refused DATA command, or any 4xx/5xx reply) means the server does not have the message, so trying
again is safe. A timeout or dropped connection after the body was sent means the server may have accepted it:
the outcome is unknown and the message must not be sent again blindly.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from creator_studio.errors import ConfigurationError

FailureKind = Literal["temporary", "permanent", "unknown"]


class SmtpSendError(Exception):
    """temporary: not delivered, retry later; permanent: not delivered, don't retry; unknown: may be delivered."""

    def __init__(self, kind: FailureKind, detail: str, *, code: int | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.code = code


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    from_address: str
    username: str | None = None
    password: str | None = None
    use_ssl: bool = False  # smtps:// (implicit TLS, port 465)
    starttls: bool = False  # smtp://...?starttls=1
    timeout_s: float = 30.0
    rate_per_s: float = 10.0  # the server's send rate (token bucket)
    burst: int = 10

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        """smtp[s]://user:pass@host:port?from=studio@example.com&starttls=1&rate=5&burst=5&timeout=10"""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigurationError(
                f"STUDIO_SMTP_URL {parts.scheme}://{parts.hostname or ''} is not smtp://host:port or smtps://host:port."
            )
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        sender = query.get("from") or (f"{unquote(parts.username)}" if parts.username and "@" in
                                       unquote(parts.username) else None)
        if not sender:
            raise ConfigurationError("STUDIO_SMTP_URL needs the sender address: add ?from=you@yourdomain.")
        try:
            return cls(
                host=parts.hostname,
                port=parts.port or (465 if parts.scheme == "smtps" else 25),
                from_address=sender,
                username=unquote(parts.username) if parts.username else None,
                password=unquote(parts.password) if parts.password else None,
                use_ssl=parts.scheme == "smtps",
                starttls=query.get("starttls", "0") in ("1", "true", "yes"),
                timeout_s=float(query.get("timeout", 30)),
                rate_per_s=float(query.get("rate", 10)),
                burst=int(query.get("burst", 10)),
            )
        except ValueError as exc:
            raise ConfigurationError(f"STUDIO_SMTP_URL has a bad number in it: {exc}") from exc


class SmtpSender:
    """One connection per message (simple and robust; the token bucket keeps the rate polite)."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def send(self, message: EmailMessage, recipient: str) -> None:
        config = self.config
        payload = message.as_bytes(policy=SMTP_POLICY)  # CRLF line ends, as SMTP wants
        client: smtplib.SMTP | None = None
        body_sent = False
        try:
            if config.use_ssl:
                client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_s,
                                          context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
            client.ehlo()
            if config.starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if config.username and config.password:
                client.login(config.username, config.password)
            _expect(client.mail(config.from_address), {250}, "MAIL FROM")
            _expect(client.rcpt(recipient), {250, 251}, "RCPT TO")
            body_sent = True  # from here on a lost connection may hide an accepted message
            code, reply = client.data(payload)
            _expect((code, reply), {250}, "end of DATA")
        except smtplib.SMTPDataError as exc:  # the DATA command itself was refused: no body was sent
            raise _reply_error(exc.smtp_code, exc.smtp_error, "DATA") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise SmtpSendError("permanent", f"login refused: {_text(exc.smtp_error)}", code=exc.smtp_code) from exc
        except SmtpSendError:
            raise
        except (smtplib.SMTPServerDisconnected, TimeoutError, OSError, smtplib.SMTPException) as exc:
            kind: FailureKind = "unknown" if body_sent else "temporary"
            raise SmtpSendError(kind, f"{type(exc).__name__}: {exc}") from exc
        finally:
            if client is not None:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _reply_error(code: int, reply: bytes | str, stage: str) -> SmtpSendError:
    kind: FailureKind = "temporary" if 400 <= code < 500 else "permanent"
    return SmtpSendError(kind, f"{stage} answered {code} {_text(reply)}", code=code)


def _expect(response: tuple[int, bytes], ok: set[int], stage: str) -> None:
    code, reply = response
    if code not in ok:
        # A reply (even a refusal) means the server said what it did: nothing was accepted.
        raise _reply_error(code, reply, stage)
