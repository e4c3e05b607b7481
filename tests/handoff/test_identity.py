"""Verified identity: a customer_ref links a chat to a customer's history only when the
embedding site signed it with the shared secret (HMAC-SHA256, as Chatwoot and Intercom do)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient

from handoff.auth import ref_signature
from handoff.settings import Settings
from tests.helpers.service import IDENTITY_SECRET, Api, record, start


async def history_of(api: Api, conversation_id: str, agent: str) -> list[str]:
    """The earlier conversations an agent is shown beside this one's handoff."""
    handoff = await api.escalate(record(conversation_id))
    answer = await api.call("GET", f"/handoffs/{handoff['handoff_id']}/history", agent, status=200)
    return [c["conversation_id"] for c in answer["conversations"]]


async def session(client: TestClient, body: dict[str, str]) -> dict[str, object]:
    response = await client.post("/sessions", json=body)
    assert response.status == 201
    return dict(await response.json())


async def test_a_signed_ref_links_the_real_customers_history(api: Api, client: TestClient) -> None:
    earlier = await session(
        client,
        {
            "customer_ref": "cust-7",
            "customer_ref_signature": ref_signature(IDENTITY_SECRET, "cust-7"),
        },
    )
    assert earlier["customer_verified"] is True
    now = await session(
        client,
        {
            "customer_ref": "cust-7",
            "customer_ref_signature": ref_signature(IDENTITY_SECRET, "cust-7"),
        },
    )
    ana = await api.agent("ana")
    assert await history_of(api, str(now["conversation_id"]), ana) == [earlier["conversation_id"]]


@pytest.mark.parametrize(
    "forged",
    [
        {"customer_ref": "cust-7"},  # unsigned
        {"customer_ref": "cust-7", "customer_ref_signature": "0" * 64},  # badly signed
        # signed for someone else
        {
            "customer_ref": "cust-7",
            "customer_ref_signature": ref_signature(IDENTITY_SECRET, "cust-8"),
        },
        # signed with another secret
        {"customer_ref": "cust-7", "customer_ref_signature": ref_signature("guess", "cust-7")},
    ],
)
async def test_a_forged_or_missing_signature_never_links(
    api: Api, client: TestClient, forged: dict[str, str]
) -> None:
    real = await session(
        client,
        {
            "customer_ref": "cust-7",
            "customer_ref_signature": ref_signature(IDENTITY_SECRET, "cust-7"),
        },
    )
    ana = await api.agent("ana")
    await api.escalate(record(str(real["conversation_id"])))  # the real customer's chat
    attacker = await session(client, forged)
    assert attacker["customer_verified"] is False
    assert await history_of(api, str(attacker["conversation_id"]), ana) == []
    # and the forged chat does not show up in the real customer's history either
    again = await session(
        client,
        {
            "customer_ref": "cust-7",
            "customer_ref_signature": ref_signature(IDENTITY_SECRET, "cust-7"),
        },
    )
    linked = await history_of(api, str(again["conversation_id"]), ana)
    assert attacker["conversation_id"] not in linked and real["conversation_id"] in linked


async def test_without_a_secret_no_ref_is_linked(settings: Settings) -> None:
    client = await start(replace(settings, identity_secret=""))
    try:
        signed = {"customer_ref": "cust-7", "customer_ref_signature": ref_signature("", "cust-7")}
        assert (await session(client, signed))["customer_verified"] is False
    finally:
        await client.close()


async def test_a_malformed_signature_is_a_clear_error(client: TestClient) -> None:
    response = await client.post(
        "/sessions", json={"customer_ref": "cust-7", "customer_ref_signature": "not-hex"}
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_body"
