"""Kit v4 and listmonk adapters by contract: respx fakes answer with the published request and response
shapes (including error bodies), through the shared reliable client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import respx

from creator_studio.providers.email.kit import KitClient, broadcast_marker
from creator_studio.providers.email.listmonk import ListmonkClient, campaign_tag
from creator_studio.providers.reliability.client import ReliableClient, RetryPolicy
from creator_studio.providers.reliability.errors import (
    BadRequest,
    Disconnected,
    OutcomeUnknown,
    ReauthorizeRequired,
)
from tests.servers_email_payments import FakeKit, FakeListmonk

pytestmark = pytest.mark.unit

SEND_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def reliable(platform: str, headers: dict[str, str], sleeps: list[float] | None = None) -> ReliableClient:
    recorded = sleeps if sleeps is not None else []
    return ReliableClient(platform=platform, account="acct", http=httpx.Client(timeout=5),
                          policy=RetryPolicy(attempts=4, base_delay=0.5), sleep=recorded.append,
                          auth_headers=lambda: headers)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def test_kit_subscribers_tags_sequences_and_broadcasts(router: respx.MockRouter) -> None:
    fake = FakeKit(router)
    kit = KitClient(reliable("kit", KitClient.headers(fake.api_key)))

    ada = kit.upsert_subscriber("Ada@Readers.test", "Ada")
    assert kit.upsert_subscriber("ada@readers.test", "Ada L.").id == ada.id  # Kit upserts by address
    assert (ada.email_address, ada.state) == ("ada@readers.test", "active")
    tag = kit.create_tag("vip")
    assert kit.create_tag("vip").id == tag.id
    kit.tag_subscriber(tag.id, "ada@readers.test")
    kit.tag_subscriber(tag.id, "ada@readers.test")
    assert fake.taggings == {(tag.id, "ada@readers.test")}
    [welcome] = kit.sequences()
    kit.add_to_sequence(welcome.id, "ada@readers.test")
    assert fake.sequence_members == {(welcome.id, "ada@readers.test")}

    broadcast = kit.create_broadcast("Launch", "<p>It is out</p>", idempotency_key="ledger-9", send_at=SEND_AT,
                                     tag_ids=[tag.id])
    sent = fake.broadcasts[broadcast.id]
    assert sent["subscriber_filter"] == [{"all": [{"type": "tag", "ids": [tag.id]}]}]
    assert sent["description"] == broadcast_marker("ledger-9") and sent["send_at"] == SEND_AT.isoformat()
    for n in range(4):  # more than one page of broadcasts: the cursor is followed
        kit.create_broadcast(f"Extra {n}", "x", idempotency_key=f"extra-{n}", send_at=None)
    assert len(kit.broadcasts()) == 5

    kit.unsubscribe(ada.id)
    assert fake.subscribers["ada@readers.test"]["state"] == "cancelled"
    assert kit.find_subscriber("nobody@readers.test") is None


def test_kit_error_bodies_become_typed_errors(router: respx.MockRouter) -> None:
    fake = FakeKit(router)
    with pytest.raises(BadRequest, match="Email address is invalid") as caught:
        KitClient(reliable("kit", KitClient.headers(fake.api_key))).upsert_subscriber("not-an-address")
    assert caught.value.status == 422
    with pytest.raises(ReauthorizeRequired, match="studio connect kit"):
        KitClient(reliable("kit", KitClient.headers("wrong"))).tags()


def test_kit_429_without_retry_after_backs_off_and_retries(router: respx.MockRouter) -> None:
    fake = FakeKit(router)
    route = router.post("https://api.kit.com/v4/tags").mock(side_effect=[
        httpx.Response(429, json={"errors": ["Rate limit exceeded"]}),
        httpx.Response(429, json={"errors": ["Rate limit exceeded"]}),
        httpx.Response(201, json={"tag": {"id": 5, "name": "vip", "created_at": "2026-11-25T14:00:00Z"}}),
    ])
    sleeps: list[float] = []
    tag = KitClient(reliable("kit", KitClient.headers(fake.api_key), sleeps)).create_tag("vip")
    assert tag.id == 5 and route.call_count == 3
    assert len(sleeps) >= 2 and all(s > 0 for s in sleeps)  # it waited before each retry


def test_kit_broadcast_with_a_lost_response_is_read_back_not_duplicated(router: respx.MockRouter) -> None:
    fake = FakeKit(router)
    calls = {"n": 0}
    original = fake.post_broadcast

    def lose_first(request: httpx.Request) -> httpx.Response:  # Kit stores it, the first answer is lost
        response = original(request)
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return response

    router.post("https://api.kit.com/v4/broadcasts").mock(side_effect=lose_first)
    kit = KitClient(reliable("kit", KitClient.headers(fake.api_key)))
    broadcast = kit.create_broadcast("Once", "x", idempotency_key="k-once", send_at=None)
    assert list(fake.broadcasts) == [broadcast.id] and calls["n"] == 1


def test_listmonk_lists_subscribers_campaigns_and_tx(router: respx.MockRouter) -> None:
    fake = FakeListmonk(router)
    listmonk = ListmonkClient(reliable("listmonk", ListmonkClient.headers("studio", "lm_token")), fake.URL)

    weekly = listmonk.create_list("Weekly", optin="double", tags=["newsletter"])
    assert listmonk.create_list("Weekly").id == weekly.id and (weekly.optin, weekly.type) == ("double", "public")
    ada = listmonk.add_subscriber("Ada@Readers.test", "Ada", [weekly.id])
    assert listmonk.add_subscriber("ada@readers.test", "Ada", [weekly.id]).id == ada.id  # 409 -> the same one
    assert ada.lists[0]["subscription_status"] == "unconfirmed"  # double opt-in: listmonk asks Ada to confirm
    vip = listmonk.add_subscriber("vip@readers.test", "Vic", [weekly.id], preconfirm=True)
    assert vip.lists[0]["subscription_status"] == "confirmed"

    campaign = listmonk.create_campaign("Launch", "It is out", "Hello **readers**", [weekly.id],
                                        idempotency_key="ledger-5", send_at=SEND_AT)
    assert campaign.status == "draft" and campaign.tags == [campaign_tag("ledger-5")]
    assert fake.campaigns[campaign.id]["send_at"] == SEND_AT.isoformat()
    assert listmonk.start_campaign(campaign.id, scheduled=True).status == "scheduled"

    listmonk.send_transactional(3, "ada@readers.test", idempotency_key="tx-1", data={"order": "A-1"})
    assert fake.tx == [{"subscriber_email": "ada@readers.test", "template_id": 3, "data": {"order": "A-1"},
                        "content_type": "html"}]
    listmonk.blocklist([ada.id])
    assert fake.subscribers["ada@readers.test"]["status"] == "blocklisted"


def test_listmonk_errors(router: respx.MockRouter) -> None:
    fake = FakeListmonk(router)
    listmonk = ListmonkClient(reliable("listmonk", ListmonkClient.headers("studio", "lm_token")), fake.URL)
    with pytest.raises(BadRequest, match="Invalid email"):
        listmonk.add_subscriber("nope", "Nope", [])
    with pytest.raises(BadRequest, match="Select at least one list"):
        listmonk.create_campaign("x", "y", "z", [], idempotency_key="k")
    with pytest.raises(Disconnected, match="Invalid API credentials"):
        ListmonkClient(reliable("listmonk", ListmonkClient.headers("studio", "bad")), fake.URL).lists()


def test_listmonk_tx_with_a_lost_response_is_reported_not_repeated(router: respx.MockRouter) -> None:
    fake = FakeListmonk(router)
    fake.subscribers["ada@readers.test"] = {"id": 1}

    def lost(request: httpx.Request) -> httpx.Response:
        fake.post_tx(request)
        raise httpx.ReadTimeout("timed out", request=request)

    router.post(f"{fake.URL}/api/tx").mock(side_effect=lost)
    listmonk = ListmonkClient(reliable("listmonk", ListmonkClient.headers("studio", "lm_token")), fake.URL)
    with pytest.raises(OutcomeUnknown, match="not sent again"):
        listmonk.send_transactional(3, "ada@readers.test", idempotency_key="tx-2")
    assert len(fake.tx) == 1
