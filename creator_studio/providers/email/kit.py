"""Kit (formerly ConvertKit) API v4: subscribers, tags, sequences and broadcasts.

Auth is the account's v4 API key in `X-Kit-Api-Key`. Shapes follow developers.kit.com/v4: single objects come
wrapped (`{"subscriber": {...}}`, `{"tag": {...}}`, `{"broadcast": {...}}`), lists as `{"<plural>": [...],
"pagination": {"has_next_page", "end_cursor", ...}}` (cursor pagination with `after`), errors as
`{"errors": ["..."]}`. Kit answers 429 without Retry-After when the 120 requests/minute limit is hit: the
reliable client backs off (exponentially, and for the rest of the window).

Exactly-once: creating a subscriber, tagging and adding to a sequence are upserts by email address at Kit, so
repeating them is harmless. A broadcast is not: it carries a marker with the idempotency key in its internal
`description`, and a write whose outcome is unknown is only repeated after reading the broadcasts back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from creator_studio.providers.email.readback import read_back
from creator_studio.providers.reliability.client import ReliableClient, WriteGuard

KIT_API = "https://api.kit.com"
KitState = Literal["active", "bounced", "cancelled", "complained", "inactive"]


class KitSubscriber(BaseModel):
    id: int
    email_address: str
    first_name: str | None = None
    state: KitState
    created_at: datetime


class KitTag(BaseModel):
    id: int
    name: str
    created_at: datetime


class KitSequence(BaseModel):
    id: int
    name: str
    hold: bool = False
    repeat: bool = False
    created_at: datetime


class KitBroadcast(BaseModel):
    id: int
    subject: str | None = None
    description: str | None = None
    content: str | None = None
    public: bool = False
    send_at: datetime | None = None
    created_at: datetime


def broadcast_marker(idempotency_key: str) -> str:
    return f"studio:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"


class KitClient:
    def __init__(self, client: ReliableClient, base_url: str = KIT_API) -> None:
        self._client = client
        self._base = base_url.rstrip("/")

    @staticmethod
    def headers(api_key: str) -> dict[str, str]:
        """The auth headers for a ReliableClient's `auth_headers`."""
        return {"X-Kit-Api-Key": api_key, "Accept": "application/json"}

    def _url(self, path: str) -> str:
        return f"{self._base}/v4/{path.lstrip('/')}"

    # Subscribers ------------------------------------------------------------------------------------
    def upsert_subscriber(self, email: str, first_name: str | None = None, *,
                          state: KitState = "active") -> KitSubscriber:
        """Kit creates the subscriber or updates the one with this address: repeating it is harmless."""
        body: dict[str, Any] = {"email_address": email, "state": state}
        if first_name:
            body["first_name"] = first_name
        guard: WriteGuard[KitSubscriber] = WriteGuard(
            key=f"kit-subscriber:{email}", what=f"adding {email}",
            find_existing=read_back("kit", f"adding {email}", lambda: self.find_subscriber(email)))
        return self._client.write("POST", self._url("subscribers"), guard,
                                  lambda r: KitSubscriber.model_validate(r.json()["subscriber"]), json=body)

    def find_subscriber(self, email: str) -> KitSubscriber | None:
        response = self._client.read("GET", self._url("subscribers"),
                                     params={"email_address": email, "status": "all"})
        found = response.json().get("subscribers") or []
        return KitSubscriber.model_validate(found[0]) if found else None

    def unsubscribe(self, subscriber_id: int) -> None:
        """Setting a state: repeating it changes nothing. Kit answers 204 No Content."""
        self._client.write("POST", self._url(f"subscribers/{subscriber_id}/unsubscribe"),
                           _repeatable(f"kit-unsubscribe:{subscriber_id}", "the unsubscribe"), lambda r: None, json={})

    # Tags and sequences -----------------------------------------------------------------------------
    def tags(self) -> list[KitTag]:
        return [KitTag.model_validate(t) for t in self._pages("tags", "tags")]

    def create_tag(self, name: str) -> KitTag:
        """Kit answers 200 with the existing tag when the name is taken, 201 when it creates one."""
        guard: WriteGuard[KitTag] = WriteGuard(
            key=f"kit-tag:{name}", what=f"creating the tag {name!r}",
            find_existing=read_back("kit", f"creating the tag {name!r}",
                                    lambda: next((t for t in self.tags() if t.name == name), None)))
        return self._client.write("POST", self._url("tags"), guard,
                                  lambda r: KitTag.model_validate(r.json()["tag"]), json={"name": name})

    def tag_subscriber(self, tag_id: int, email: str) -> KitSubscriber:
        return self._client.write("POST", self._url(f"tags/{tag_id}/subscribers"),
                                  _repeatable(f"kit-tagging:{tag_id}:{email}", "the tagging"),
                                  lambda r: KitSubscriber.model_validate(r.json()["subscriber"]),
                                  json={"email_address": email})

    def sequences(self) -> list[KitSequence]:
        return [KitSequence.model_validate(s) for s in self._pages("sequences", "sequences")]

    def add_to_sequence(self, sequence_id: int, email: str) -> KitSubscriber:
        return self._client.write("POST", self._url(f"sequences/{sequence_id}/subscribers"),
                                  _repeatable(f"kit-sequence:{sequence_id}:{email}", "adding to the sequence"),
                                  lambda r: KitSubscriber.model_validate(r.json()["subscriber"]),
                                  json={"email_address": email})

    # Broadcasts -------------------------------------------------------------------------------------
    def broadcasts(self) -> list[KitBroadcast]:
        return [KitBroadcast.model_validate(b) for b in self._pages("broadcasts", "broadcasts")]

    def create_broadcast(self, subject: str, content: str, *, idempotency_key: str, send_at: datetime | None,
                         tag_ids: list[int] | None = None, preview_text: str | None = None) -> KitBroadcast:
        """A broadcast to every subscriber, or to those with any of `tag_ids`; send_at None saves a draft."""
        marker = broadcast_marker(idempotency_key)
        audience: dict[str, Any] = (
            {"type": "tag", "ids": tag_ids} if tag_ids else {"type": "all_subscribers"}
        )
        body: dict[str, Any] = {
            "subject": subject, "content": content, "description": marker, "public": False,
            "send_at": send_at.isoformat() if send_at else None, "preview_text": preview_text,
            "subscriber_filter": [{"all": [audience]}],
        }
        guard: WriteGuard[KitBroadcast] = WriteGuard(
            key=idempotency_key, what=f"the broadcast {subject!r}",
            find_existing=read_back("kit", f"the broadcast {subject!r}",
                                    lambda: next((b for b in self.broadcasts() if b.description == marker), None)))
        return self._client.write("POST", self._url("broadcasts"), guard,
                                  lambda r: KitBroadcast.model_validate(r.json()["broadcast"]), json=body)

    # Pagination -------------------------------------------------------------------------------------
    def _pages(self, path: str, key: str) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"per_page": 1000}
        while True:
            body = self._client.read("GET", self._url(path), params=params).json()
            yield from body.get(key) or []
            pagination = body.get("pagination") or {}
            if not pagination.get("has_next_page"):
                return
            params = {**params, "after": pagination["end_cursor"]}


def _repeatable(key: str, what: str) -> WriteGuard[Any]:
    """A write that is an upsert at the platform: repeating it after an unknown outcome gives the same result,
    so it is marked as de-duplicated by the platform (the extra Idempotency-Key header is ignored by Kit)."""
    return WriteGuard(key=key, what=what, platform_idempotency=True)
