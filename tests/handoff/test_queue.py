"""Handoffs through the API: created once, ordered fairly, claimed once, closed for good."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient

from tests.helpers.service import SERVICE, START, Api, controlled, record


async def test_an_escalation_is_queued_with_position_and_wait(api: Api) -> None:
    await api.agent("ana")
    created = await api.escalate()
    assert created["created"] is True
    assert (created["state"], created["position"], created["offline"]) == ("queued", 1, False)
    assert created["estimated_wait_s"] == 0  # ana has a free seat


async def test_the_same_escalation_posted_ten_times_at_once_is_one_handoff(
    api: Api, client: TestClient
) -> None:
    body = record()
    responses = await asyncio.gather(
        *(client.post("/handoffs", json=body, headers=SERVICE) for _ in range(10))
    )
    answers = [await r.json() for r in responses]
    assert sorted(r.status for r in responses) == [200] * 9 + [201]
    assert len({a["handoff_id"] for a in answers}) == 1
    token = await api.agent("ana")
    queue = await api.call("GET", "/queue", token, status=200)
    assert [e["conversation_id"] for e in queue["queue"]] == [body["conversation_id"]]


async def test_an_unknown_trigger_is_refused_not_queued_last(client: TestClient) -> None:
    response = await client.post(
        "/handoffs", json=record(trigger="upset_customer"), headers=SERVICE
    )
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "invalid_body" and "reason.trigger" in error["message"]


async def test_a_second_escalation_of_a_waiting_conversation_joins_the_first(api: Api) -> None:
    first = await api.escalate(record("conv-1"))
    second = await api.escalate(record("conv-1", trigger="strong_negative"))
    assert second["handoff_id"] == first["handoff_id"] and second["created"] is False


async def test_anger_and_sensitive_topics_go_first_but_nobody_starves(
    api: Api, client: TestClient
) -> None:
    clock = controlled(client)
    await api.escalate(record("lost", trigger="low_confidence"))  # priority 1
    clock.later(START, 1)
    await api.escalate(record("asked", trigger="explicit_request"))  # priority 2
    clock.later(START, 2)
    await api.escalate(record("furious", trigger="strong_negative"))  # priority 3
    token = await api.agent("ana")
    order = [e["conversation_id"] for e in (await api.call("GET", "/queue", token))["queue"]]
    assert order == ["furious", "asked", "lost"]

    # A calm customer who has waited 11 minutes beats an angry one who just arrived.
    clock.later(START, 11)
    await api.escalate(record("late-anger", trigger="strong_negative"))
    queue = (await api.call("GET", "/queue", token))["queue"]
    assert [e["conversation_id"] for e in queue][-1] == "late-anger"
    assert [e["position"] for e in queue] == [1, 2, 3, 4]
    assert queue[0]["waiting_s"] == 9 * 60


async def test_a_claimed_handoff_cannot_be_claimed_again(api: Api) -> None:
    handoff = await api.escalate()
    ana, ben = await api.agent("ana"), await api.agent("ben")
    path = f"/handoffs/{handoff['handoff_id']}/claim"
    claimed = await api.call("POST", path, ana, status=200)
    assert claimed["state"] == "assigned"
    refused = await api.call("POST", path, ben, status=409)
    assert refused["error"]["code"] == "already_claimed"


async def test_an_agent_at_capacity_is_refused_clearly(api: Api) -> None:
    ana = await api.agent("ana", capacity=1)
    first, second = await api.escalate(), await api.escalate()
    await api.call("POST", f"/handoffs/{first['handoff_id']}/claim", ana, status=200)
    refused = await api.call("POST", f"/handoffs/{second['handoff_id']}/claim", ana, status=409)
    assert refused["error"]["code"] == "at_capacity"
    assert "limit is 1" in refused["error"]["message"]


async def test_claim_next_takes_the_head_of_the_queue_then_reports_empty(api: Api) -> None:
    await api.escalate(record("calm", trigger="low_confidence"))
    await api.escalate(record("sensitive", trigger="sensitive_topic"))
    ana = await api.agent("ana")
    claimed = await api.call("POST", "/queue/claim-next", ana, status=200)
    assert claimed["conversation_id"] == "sensitive"
    await api.call("POST", "/queue/claim-next", ana, status=200)
    empty = await api.call("POST", "/queue/claim-next", ana, status=404)
    assert "queue is empty" in empty["error"]["message"]


async def test_the_wait_estimate_follows_free_seats_and_recent_handle_times(
    api: Api, client: TestClient
) -> None:
    clock = controlled(client)
    ana = await api.agent("ana", capacity=1)
    done = await api.escalate()
    await api.call("POST", f"/handoffs/{done['handoff_id']}/claim", ana, status=200)
    clock.later(START, 4)  # handled in 4 minutes
    await api.call("POST", f"/handoffs/{done['handoff_id']}/resolve", ana, status=200)
    busy = await api.escalate()
    await api.call("POST", f"/handoffs/{busy['handoff_id']}/claim", ana, status=200)
    first, second = await api.escalate(), await api.escalate()
    assert (first["position"], first["estimated_wait_s"]) == (1, 240)
    assert (second["position"], second["estimated_wait_s"]) == (2, 480)


async def test_the_agent_sees_the_whole_story(api: Api) -> None:
    handoff = await api.escalate(record("story"))
    ana = await api.agent("ana")
    detail = await api.call("GET", f"/handoffs/{handoff['handoff_id']}", ana, status=200)
    assert detail["trigger"] == "explicit_request" and detail["reason"]["turn"] == 2
    assert detail["mood"] == "angry" and detail["sentiment"] == -0.8
    assert [t["level"] for t in detail["score_trail"]] == ["neutral", "angry"]
    speakers = [m["speaker"] for m in detail["messages"]]
    assert speakers == ["customer", "bot", "customer", "system"]
    first = detail["messages"][0]
    assert (first["intent"], first["confidence"], first["sentiment"]) == (
        "check_order_status",
        0.93,
        -0.1,
    )
    assert [m["seq"] for m in detail["messages"]] == [1, 2, 3, 4]


async def test_messages_notes_resolve_and_the_audit_trail(api: Api) -> None:
    handoff = await api.escalate()
    hid = handoff["handoff_id"]
    ana = await api.agent("ana")
    await api.call("POST", f"/handoffs/{hid}/claim", ana, status=200)
    said = await api.call("POST", f"/handoffs/{hid}/messages", ana, {"text": "Hi, Ana here."}, 201)
    assert said["speaker"] == "agent"
    await api.call("POST", f"/handoffs/{hid}/notes", ana, {"text": "VIP customer"}, 201)
    await api.call("POST", f"/handoffs/{hid}/resolve", ana, status=200)
    detail = await api.call("GET", f"/handoffs/{hid}", ana)
    assert detail["state"] == "resolved"
    assert [n["text"] for n in detail["notes"]] == ["VIP customer"]
    events = (await api.call("GET", f"/handoffs/{hid}/audit", ana))["events"]
    assert [(e["action"], e["to_state"]) for e in events] == [
        ("created", "queued"),
        ("claimed", "assigned"),
        ("resolved", "resolved"),
    ]
    again = await api.call("POST", f"/handoffs/{hid}/messages", ana, {"text": "hello?"}, 409)
    assert again["error"]["code"] == "wrong_state"


async def test_only_the_holder_may_write_or_close(api: Api) -> None:
    handoff = await api.escalate()
    hid = handoff["handoff_id"]
    ana, ben = await api.agent("ana"), await api.agent("ben")
    await api.call("POST", f"/handoffs/{hid}/claim", ana, status=200)
    refused = await api.call("POST", f"/handoffs/{hid}/resolve", ben, status=403)
    assert refused["error"]["code"] == "not_your_conversation"


async def test_reassign_to_a_colleague_or_back_to_the_queue(api: Api) -> None:
    handoff = await api.escalate()
    hid = handoff["handoff_id"]
    ana, ben = await api.agent("ana"), await api.agent("ben")
    ben_id = (await api.call("GET", "/agent/me", ben))["id"]
    await api.call("POST", f"/handoffs/{hid}/claim", ana, status=200)
    await api.call("POST", f"/handoffs/{hid}/reassign", ana, {"agent_id": ben_id}, 200)
    assert (await api.call("GET", f"/handoffs/{hid}", ben))["agent_id"] == ben_id
    await api.call("POST", f"/handoffs/{hid}/reassign", ben, {}, 200)
    queue = (await api.call("GET", "/queue", ana))["queue"]
    assert [e["id"] for e in queue] == [hid]


async def test_the_agent_list_shows_who_can_take_a_chat(api: Api) -> None:
    hid = (await api.escalate())["handoff_id"]
    ana, ben = await api.agent("ana", capacity=2), await api.agent("ben")
    await api.agent("cy", available=False)
    await api.call("POST", f"/handoffs/{hid}/claim", ana, status=200)
    await api.call("POST", "/agent/logout", ben, {}, 200)
    listed = (await api.call("GET", "/agents", ana, status=200))["agents"]
    seen = {
        a["name"]: (a["available"], a["signed_in"], a["holding"], a["capacity"]) for a in listed
    }
    assert seen == {
        "ana": (True, True, 1, 2),
        "ben": (True, False, 0, 3),
        "cy": (False, True, 0, 3),
    }


async def test_nobody_online_means_an_honest_answer_and_an_offline_ticket(api: Api) -> None:
    conversation_id, token = await api.session()
    handoff = await api.escalate(record(conversation_id))
    assert (handoff["offline"], handoff["offline_reason"]) == (True, "no_agents")
    assert handoff["estimated_wait_s"] is None
    path = f"/conversations/{conversation_id}/offline"
    ticket = await api.call("POST", path, token, {"email": "pat@example.com"}, 200)
    assert ticket["state"] == "offline"
    ana = await api.agent("ana")  # the first agent online sees it and takes it
    queue = (await api.call("GET", "/queue", ana))["queue"]
    assert [(e["state"], e["position"]) for e in queue] == [("offline", None)]
    claimed = await api.call("POST", "/queue/claim-next", ana, status=200)
    assert claimed["id"] == handoff["handoff_id"]
    transcript = [m["text"] for m in claimed["messages"]]
    assert any("reply by email" in t for t in transcript)


async def test_the_customer_leaving_abandons_the_handoff(api: Api) -> None:
    conversation_id, token = await api.session()
    handoff = await api.escalate(record(conversation_id))
    left = await api.call("POST", f"/conversations/{conversation_id}/leave", token, status=200)
    assert left == {"handoff_id": handoff["handoff_id"], "state": "abandoned"}
    ana = await api.agent("ana")
    assert (await api.call("GET", "/queue", ana))["queue"] == []


async def test_the_customer_sees_their_place_in_line(api: Api) -> None:
    await api.agent("ana", capacity=1)
    await api.escalate()
    conversation_id, token = await api.session()
    await api.escalate(record(conversation_id))
    mine = await api.call("GET", f"/conversations/{conversation_id}", token, status=200)
    assert mine["handoff"]["state"] == "queued"
    assert (mine["handoff"]["position"], mine["handoff"]["estimated_wait_s"]) == (2, 480)


async def test_a_resent_customer_message_is_stored_once(api: Api) -> None:
    conversation_id, token = await api.session()
    path = f"/conversations/{conversation_id}/messages"
    first = await api.call("POST", path, token, {"text": "hello", "client_id": "m1"}, 201)
    again = await api.call("POST", path, token, {"text": "hello", "client_id": "m1"}, 200)
    assert again["seq"] == first["seq"] and again["duplicate"] is True
    later = await api.call("GET", f"{path}?after={first['seq'] - 1}", token, status=200)
    texts = [m["text"] for m in later["messages"]]
    assert texts[0] == "hello" and texts.count("hello") == 1  # then the bot's answer


async def test_personal_data_is_redacted_before_it_is_stored(api: Api) -> None:
    conversation_id, token = await api.session()
    text = "card 4111 1111 1111 1111, mail me at pat@example.com or call 555-201-7788, LS-204381"
    stored = await api.call(
        "POST", f"/conversations/{conversation_id}/messages", token, {"text": text}, 201
    )
    assert stored["text"] == "card [card], mail me at [email] or call [phone], LS-204381"
    body = record(conversation_id="pii")
    body["transcript"][0]["text"] = "my card is 4111111111111111"
    body["score_trail"][0]["text"] = "iban GB82 WEST 1234 5698 7654 32"
    handoff = await api.escalate(body)
    ana = await api.agent("ana")
    detail = await api.call("GET", f"/handoffs/{handoff['handoff_id']}", ana)
    assert detail["transcript"][0]["text"] == "my card is [card]"
    assert detail["score_trail"][0]["text"] == "iban [iban]"


async def test_history_lists_the_same_customers_earlier_conversations(api: Api) -> None:
    earlier_id, _ = await api.session(customer_ref="cust-42")
    await api.escalate(record(earlier_id, trigger="strong_negative"))
    ana = await api.agent("ana")
    first = await api.call("POST", "/queue/claim-next", ana, status=200)
    await api.call("POST", f"/handoffs/{first['id']}/resolve", ana, status=200)
    await api.session(customer_ref="someone-else")
    now_id, _ = await api.session(customer_ref="cust-42")
    now = await api.escalate(record(now_id))
    history = await api.call("GET", f"/handoffs/{now['handoff_id']}/history", ana, status=200)
    [earlier] = history["conversations"]
    assert earlier["conversation_id"] == earlier_id
    assert earlier["handoffs"][0]["state"] == "resolved"


async def test_canned_responses_start_with_the_migrated_set_and_accept_more(api: Api) -> None:
    ana = await api.agent("ana")
    shortcuts = [
        c["shortcut"] for c in (await api.call("GET", "/canned-responses", ana))["canned_responses"]
    ]
    assert "hi" in shortcuts
    body = {"shortcut": "refund", "text": "Your refund is on its way."}
    await api.call("POST", "/canned-responses", ana, body, 201)
    taken = await api.call("POST", "/canned-responses", ana, body, 409)
    assert taken["error"]["code"] == "shortcut_taken"


async def test_returning_to_an_unreachable_bot_keeps_the_chat_with_the_agent(api: Api) -> None:
    handoff = await api.escalate()
    hid = handoff["handoff_id"]
    ana = await api.agent("ana")
    await api.call("POST", f"/handoffs/{hid}/claim", ana, status=200)
    refused = await api.call("POST", f"/handoffs/{hid}/return", ana, {"summary": "done"}, 502)
    assert refused["error"]["code"] == "rasa_unavailable"
    assert (await api.call("GET", f"/handoffs/{hid}", ana))["state"] == "assigned"


async def test_an_agent_closes_a_chat_the_customer_walked_away_from(api: Api) -> None:
    handoff = await api.escalate()
    hid = handoff["handoff_id"]
    ana = await api.agent("ana", capacity=1)
    await api.call("POST", f"/handoffs/{hid}/claim", ana, status=200)
    await api.call("POST", f"/handoffs/{hid}/abandon", ana, status=200)
    assert (await api.call("GET", f"/handoffs/{hid}", ana))["state"] == "abandoned"
    await api.escalate()
    await api.call("POST", "/queue/claim-next", ana, status=200)  # the seat is free again
