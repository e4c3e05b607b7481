"""Support figures: a few handoffs on a controlled clock, then ``/reports`` and ``/metrics``.

The story behind every figure (minutes after each escalation):

- three handoffs resolved: claimed after 2, 4 and 10; first reply after 3, 6 and 11;
  resolved after 10, 20 and 12;
- one the customer left, one turned into an offline ticket, one still queued;
- two conversations the bot handled alone;
- ratings 5 and 2 after handoffs, and 4 after the bot alone.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.helpers.service import START, Api, Clock, controlled, record

pytestmark = pytest.mark.usefixtures("fast_hashing")


async def handled(
    api: Api, clock: Clock, agent: str, trigger: str, claim: int, reply: int, resolve: int
) -> tuple[str, str]:
    """A conversation escalated now and resolved by ``agent``: its id and customer token."""
    conversation_id, token = await api.session()
    escalated = clock.now
    hid = (await api.escalate(record(conversation_id, trigger=trigger)))["handoff_id"]
    clock.later(escalated, claim)
    await api.call("POST", f"/handoffs/{hid}/claim", agent, status=200)
    clock.later(escalated, reply)
    await api.call("POST", f"/handoffs/{hid}/messages", agent, {"text": "Hi, Ana here."}, 201)
    clock.later(escalated, resolve - 0.5)  # a later reply is not the first response
    await api.call("POST", f"/handoffs/{hid}/messages", agent, {"text": "All sorted?"}, 201)
    clock.later(escalated, resolve)
    await api.call("POST", f"/handoffs/{hid}/resolve", agent, status=200)
    return conversation_id, token


async def rate(api: Api, conversation: tuple[str, str], rating: object, status: int = 201) -> Any:
    conversation_id, token = conversation
    path = f"/conversations/{conversation_id}/csat"
    return await api.call("POST", path, token, {"rating": rating}, status)


async def a_day_of_support(api: Api, client: TestClient) -> str:
    """The story in the module docstring; an agent's token to read the figures with."""
    clock = controlled(client)
    ana = await api.agent("ana")
    first = await handled(api, clock, ana, "explicit_request", claim=2, reply=3, resolve=10)
    second = await handled(api, clock, ana, "strong_negative", claim=4, reply=6, resolve=20)
    await handled(api, clock, ana, "explicit_request", claim=10, reply=11, resolve=12)

    left_id, left_token = await api.session()
    await api.escalate(record(left_id, trigger="low_confidence"))
    clock.later(clock.now, 1)
    await api.call("POST", f"/conversations/{left_id}/leave", left_token, status=200)
    offline_id, offline_token = await api.session()
    await api.escalate(record(offline_id, trigger="sensitive_topic"))
    email = {"email": "pat@example.com"}
    await api.call("POST", f"/conversations/{offline_id}/offline", offline_token, email, 200)
    await api.escalate(record("walk-in", trigger="negative_trend"))  # no session: Rasa's REST

    bot_only = await api.session()
    await api.session()
    await rate(api, first, 5)
    await rate(api, second, 2)
    await rate(api, bot_only, 4)
    return ana


async def test_the_report_sums_up_speed_satisfaction_and_containment(
    api: Api, client: TestClient
) -> None:
    ana = await a_day_of_support(api, client)
    figures = await api.call("GET", "/reports", ana, status=200)
    assert (figures["days"], figures["handoffs"]) == (30, 6)
    assert figures["by_state"] == {"resolved": 3, "abandoned": 1, "offline": 1, "queued": 1}
    assert figures["by_trigger"] == {
        "explicit_request": 2,
        "strong_negative": 1,
        "low_confidence": 1,
        "sensitive_topic": 1,
        "negative_trend": 1,
    }
    assert figures["wait"] == {"count": 3, "mean_s": 320.0, "median_s": 240.0}
    assert figures["first_response"] == {"count": 3, "mean_s": 400.0, "median_s": 360.0}
    assert figures["handle"] == {"count": 3, "mean_s": 520.0, "median_s": 480.0}
    assert figures["resolution"] == {"count": 3, "mean_s": 840.0, "median_s": 720.0}
    assert figures["csat"] == {
        "count": 3,
        "mean": 3.67,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
    }
    assert (figures["conversations"], figures["containment"]) == (8, 0.25)  # 6 of 8 escalated


async def test_metrics_show_the_same_figures_to_prometheus(api: Api, client: TestClient) -> None:
    await a_day_of_support(api, client)
    response = await client.get("/metrics")
    assert response.status == 200 and response.content_type == "text/plain"
    lines = set((await response.text()).splitlines())
    assert {
        'handoff_queue_size{state="queued"} 1',
        'handoff_queue_size{state="offline"} 1',
        'handoff_escalations{trigger="explicit_request"} 2',
        "handoff_wait_seconds 320.0",
        "handoff_first_response_seconds 400.0",
        "handoff_handle_seconds 520.0",
        "handoff_resolution_seconds 840.0",
        "handoff_csat_mean 3.67",
        "handoff_containment_ratio 0.25",
        "# TYPE handoff_csat_mean gauge",
        "# TYPE handoff_http_responses_total counter",
    } <= lines
    assert any(line.startswith('handoff_http_responses_total{status="2xx"} ') for line in lines)


async def test_metrics_before_any_conversation_are_empty_not_zero(client: TestClient) -> None:
    response = await client.get("/metrics")
    lines = set((await response.text()).splitlines())
    assert {
        'handoff_queue_size{state="queued"} 0',
        'handoff_queue_size{state="offline"} 0',
        "handoff_wait_seconds NaN",
        "handoff_csat_mean NaN",
        "handoff_containment_ratio NaN",
    } <= lines


async def test_a_conversation_is_rated_once_from_1_to_5(api: Api) -> None:
    conversation = await api.session()
    for bad in (0, 6, "5", 4.5):
        refused = await rate(api, conversation, bad, 400)
        assert refused["error"]["code"] == "invalid_body"
    assert await rate(api, conversation, 5) == {"rating": 5}
    again = await rate(api, conversation, 1, 409)
    assert again["error"]["code"] == "already_rated"
    ana = await api.agent("ana")
    figures = await api.call("GET", "/reports", ana, status=200)
    assert figures["csat"]["count"] == 1 and figures["csat"]["mean"] == 5


async def test_the_window_leaves_out_older_handoffs(api: Api, client: TestClient) -> None:
    clock = controlled(client)
    clock.later(START, -3 * 24 * 60)
    await api.escalate(record("three-days-ago"))
    clock.now = START
    await api.escalate(record("today"))
    ana = await api.agent("ana")
    assert (await api.call("GET", "/reports?days=1", ana, status=200))["handoffs"] == 1
    assert (await api.call("GET", "/reports?days=7", ana, status=200))["handoffs"] == 2


async def test_a_window_that_is_not_1_to_365_days_is_refused(api: Api) -> None:
    ana = await api.agent("ana")
    for days in ("0", "abc", "366", "-1", "1.5"):
        refused = await api.call("GET", f"/reports?days={days}", ana, status=400)
        assert list(refused) == ["error"] and refused["error"]["code"] == "invalid_query"


async def test_passing_a_chat_to_a_colleague_keeps_when_it_was_first_claimed(
    api: Api, client: TestClient
) -> None:
    clock = controlled(client)
    ana, ben = await api.agent("ana"), await api.agent("ben")
    ben_id = (await api.call("GET", "/agent/me", ben))["id"]
    hid = (await api.escalate())["handoff_id"]
    clock.later(START, 2)
    await api.call("POST", f"/handoffs/{hid}/claim", ana, status=200)
    clock.later(START, 5)
    await api.call("POST", f"/handoffs/{hid}/reassign", ana, {"agent_id": ben_id}, 200)
    clock.later(START, 6)
    await api.call("POST", f"/handoffs/{hid}/messages", ben, {"text": "Ben here."}, 201)
    clock.later(START, 10)
    await api.call("POST", f"/handoffs/{hid}/resolve", ben, status=200)
    figures = await api.call("GET", "/reports", ana, status=200)
    assert figures["wait"]["mean_s"] == 120.0  # the customer stopped waiting at ana's claim
    assert figures["handle"]["mean_s"] == 480.0  # ana's three minutes count too
    assert figures["first_response"]["mean_s"] == 360.0


async def test_containment_counts_only_conversations_that_started_in_the_window(
    api: Api, client: TestClient
) -> None:
    clock = controlled(client)
    clock.later(START, -3 * 24 * 60)
    old = [await api.session() for _ in range(2)]
    clock.now = START
    for conversation_id, _ in old:  # customers who came back today, days later
        await api.escalate(record(conversation_id))
    await api.session()  # today's only new conversation; the bot handled it
    ana = await api.agent("ana")
    figures = await api.call("GET", "/reports?days=1", ana, status=200)
    assert (figures["conversations"], figures["containment"]) == (1, 1.0)
