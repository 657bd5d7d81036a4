"""Listmonk (self-hosted newsletter manager) REST API: subscribers, lists, campaigns and transactional mail.

Auth is an API user's token: `Authorization: token <api_user>:<token>`. Shapes follow listmonk.app/docs/apis:
success is `{"data": ...}`, lists of records `{"data": {"results": [...], "total", "per_page", "page"}}`,
failure `{"message": "..."}` with a 4xx/5xx status (409 "E-mail already exists." for a known address).

Exactly-once: a subscriber is one per address (a 409 is answered by reading the existing one back); lists are
found by name; campaigns carry a `studio:<hash of the idempotency key>` tag and are read back by it before a
write with an unknown outcome is repeated; starting a campaign sets a status (repeating it changes nothing).
Transactional messages (`/api/tx`) cannot be read back, so an unknown outcome is reported, never repeated.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel

from creator_studio.providers.email.readback import read_back
from creator_studio.providers.reliability.client import ReliableClient, WriteGuard
from creator_studio.providers.reliability.errors import BadRequest

SubscriberStatus = Literal["enabled", "disabled", "blocklisted"]


class ListmonkList(BaseModel):
    id: int
    uuid: str
    name: str
    type: Literal["public", "private", "temporary"]
    optin: Literal["single", "double"]
    tags: list[str] = []
    subscriber_count: int = 0
    created_at: datetime


class ListmonkSubscriber(BaseModel):
    id: int
    uuid: str
    email: str
    name: str
    status: SubscriberStatus
    lists: list[dict[str, Any]] = []
    created_at: datetime


class ListmonkCampaign(BaseModel):
    id: int
    uuid: str
    name: str
    subject: str
    status: Literal["draft", "scheduled", "running", "paused", "finished", "cancelled"]
    tags: list[str] = []
    send_at: datetime | None = None
    created_at: datetime


def campaign_tag(idempotency_key: str) -> str:
    return f"studio:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"


class ListmonkClient:
    def __init__(self, client: ReliableClient, base_url: str) -> None:
        self._client = client
        self._base = base_url.rstrip("/")

    @staticmethod
    def headers(api_user: str, token: str) -> dict[str, str]:
        return {"Authorization": f"token {api_user}:{token}"}

    @staticmethod
    def basic_headers(api_user: str, token: str) -> dict[str, str]:
        """Older listmonk versions take the same credentials as HTTP basic auth."""
        return {"Authorization": "Basic " + base64.b64encode(f"{api_user}:{token}".encode()).decode()}

    def _url(self, path: str) -> str:
        return f"{self._base}/api/{path.lstrip('/')}"

    def _data(self, response: httpx.Response) -> Any:
        return response.json()["data"]

    # Lists ------------------------------------------------------------------------------------------
    def lists(self) -> list[ListmonkList]:
        response = self._client.read("GET", self._url("lists"), params={"per_page": "all"})
        return [ListmonkList.model_validate(r) for r in self._data(response)["results"]]

    def create_list(self, name: str, *, optin: Literal["single", "double"] = "double",
                    type: Literal["public", "private"] = "public", tags: list[str] | None = None) -> ListmonkList:
        existing = next((item for item in self.lists() if item.name == name), None)
        if existing is not None:  # one list per name
            return existing
        guard: WriteGuard[ListmonkList] = WriteGuard(
            key=f"listmonk-list:{name}", what=f"creating the list {name!r}",
            find_existing=read_back("listmonk", f"creating the list {name!r}",
                                    lambda: next((item for item in self.lists() if item.name == name), None)))
        return self._client.write("POST", self._url("lists"), guard,
                                  lambda r: ListmonkList.model_validate(self._data(r)),
                                  json={"name": name, "type": type, "optin": optin, "tags": tags or []})

    # Subscribers ------------------------------------------------------------------------------------
    def find_subscriber(self, email: str) -> ListmonkSubscriber | None:
        quoted = email.replace("'", "''")
        response = self._client.read("GET", self._url("subscribers"),
                                     params={"query": f"subscribers.email = '{quoted}'", "per_page": 1})
        results = self._data(response)["results"]
        return ListmonkSubscriber.model_validate(results[0]) if results else None

    def add_subscriber(self, email: str, name: str, list_ids: list[int], *,
                       preconfirm: bool = False, attribs: dict[str, Any] | None = None) -> ListmonkSubscriber:
        """Double opt-in lists send their own confirmation unless `preconfirm`; a known address is returned."""
        address = email.strip().lower()
        guard: WriteGuard[ListmonkSubscriber] = WriteGuard(
            key=f"listmonk-subscriber:{address}", what=f"adding {address}",
            find_existing=read_back("listmonk", f"adding {address}", lambda: self.find_subscriber(address)))
        body = {"email": address, "name": name or address.split("@")[0], "status": "enabled", "lists": list_ids,
                "attribs": attribs or {}, "preconfirm_subscriptions": preconfirm}
        try:
            return self._client.write("POST", self._url("subscribers"), guard,
                                      lambda r: ListmonkSubscriber.model_validate(self._data(r)), json=body)
        except BadRequest as exc:
            if exc.status != 409:
                raise
            found = self.find_subscriber(address)  # "E-mail already exists.": one subscriber per address
            if found is None:
                raise
            return found

    def blocklist(self, subscriber_ids: list[int]) -> None:
        """Unsubscribe from everything and never mail again (setting a state: safe to repeat)."""
        guard: WriteGuard[None] = WriteGuard(key=f"listmonk-blocklist:{subscriber_ids}", what="the blocklisting",
                                             platform_idempotency=True)
        self._client.write("PUT", self._url("subscribers/blocklist"), guard, lambda r: None,
                           json={"ids": subscriber_ids})

    # Campaigns --------------------------------------------------------------------------------------
    def campaigns(self) -> list[ListmonkCampaign]:
        response = self._client.read("GET", self._url("campaigns"), params={"per_page": "all"})
        return [ListmonkCampaign.model_validate(r) for r in self._data(response)["results"]]

    def create_campaign(self, name: str, subject: str, body: str, list_ids: list[int], *, idempotency_key: str,
                        send_at: datetime | None = None, from_email: str | None = None) -> ListmonkCampaign:
        tag = campaign_tag(idempotency_key)
        payload: dict[str, Any] = {"name": name, "subject": subject, "lists": list_ids, "type": "regular",
                                   "content_type": "markdown", "body": body, "messenger": "email", "tags": [tag]}
        if send_at is not None:
            payload["send_at"] = send_at.isoformat()
        if from_email:
            payload["from_email"] = from_email
        guard: WriteGuard[ListmonkCampaign] = WriteGuard(
            key=idempotency_key, what=f"the campaign {name!r}",
            find_existing=read_back("listmonk", f"the campaign {name!r}",
                                    lambda: next((c for c in self.campaigns() if tag in c.tags), None)))
        return self._client.write("POST", self._url("campaigns"), guard,
                                  lambda r: ListmonkCampaign.model_validate(self._data(r)), json=payload)

    def start_campaign(self, campaign_id: int, *, scheduled: bool = False) -> ListmonkCampaign:
        """`running` sends now; `scheduled` sends at the campaign's send_at."""
        status = "scheduled" if scheduled else "running"
        guard: WriteGuard[ListmonkCampaign] = WriteGuard(key=f"listmonk-status:{campaign_id}:{status}",
                                                         what="starting the campaign", platform_idempotency=True)
        return self._client.write("PUT", self._url(f"campaigns/{campaign_id}/status"), guard,
                                  lambda r: ListmonkCampaign.model_validate(self._data(r)), json={"status": status})

    # Transactional ----------------------------------------------------------------------------------
    def send_transactional(self, template_id: int, subscriber_email: str, *, idempotency_key: str,
                           data: dict[str, Any] | None = None) -> None:
        """One templated message (a receipt, a confirmation). No read-back exists: an unknown outcome raises
        OutcomeUnknown and is not repeated."""
        guard: WriteGuard[None] = WriteGuard(key=idempotency_key, what=f"the email to {subscriber_email}")
        self._client.write("POST", self._url("tx"), guard, lambda r: None,
                           json={"subscriber_email": subscriber_email, "template_id": template_id,
                                 "data": data or {}, "content_type": "html"})
