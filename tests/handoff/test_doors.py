"""Bad input at every door gets a clear answer: the JSON envelope over HTTP. Against the
real app."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from handoff import schemas
from handoff.routes import ROUTES
from tests.helpers.service import SERVICE_TOKEN, Api, record

OVER_THE_CAP = 70 * 1024  # client_max_size is 64 KiB


# --- HTTP: every route that takes a body -------------------------------------------


async def bodied_operations(client: TestClient) -> list[tuple[str, str, str]]:
    """(method, path template, tag) of every operation in the served document with a body."""
    document = await (await client.get("/openapi.json")).json()
    found = [
        (method.upper(), path, operation["tags"][0])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
        and {"400", "413", "415"} <= set(operation["responses"])  # documented, too
    ]
    assert len(found) == sum(route.body is not None for route in ROUTES) > 0
    return found


async def doors(api: Api) -> list[tuple[str, str, dict[str, str]]]:
    """(method, URL, auth header) for each bodied route, aimed at real records with a
    working token, so each request gets past its guard to the body."""
    conversation_id, customer_token = await api.session()
    handoff_id = (await api.escalate(record()))["handoff_id"]
    tokens = {"agent": await api.agent("ana"), "customer": customer_token}
    tokens["service"] = SERVICE_TOKEN
    found = []
    for method, path, tag in await bodied_operations(api.client):
        url = path.format(conversation_id=conversation_id, handoff_id=handoff_id)
        headers = {"Authorization": f"Bearer {tokens[tag]}"} if tag in tokens else {}
        found.append((method, url, headers))
    return found


async def refusal(response: aiohttp.ClientResponse) -> tuple[int, str]:
    """The status and error code of a refusal, which must be the JSON envelope."""
    text = await response.text()
    where = f"{response.method} {response.url.path}: {response.status} {text[:200]}"
    assert response.content_type == "application/json", where
    assert "Traceback" not in text and "<html" not in text.lower(), where
    error = json.loads(text)["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str), where
    return response.status, error["code"]


WRONG_TYPES = [
    ("text/plain", b'{"text": "hi"}'),
    ("application/x-www-form-urlencoded", b"text=hi"),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="a"\r\n'),
    (None, b'{"text": "hi"}'),  # no Content-Type at all
]


@pytest.mark.parametrize(("content_type", "data"), WRONG_TYPES)
async def test_a_body_that_is_not_declared_json_is_a_415_on_every_route(
    api: Api, content_type: str | None, data: bytes
) -> None:
    for method, url, headers in await doors(api):
        sent = {**headers, "Content-Type": content_type} if content_type else headers
        # skip_auto_headers: else aiohttp labels bytes application/octet-stream itself.
        response = await api.client.request(
            method, url, data=data, headers=sent, skip_auto_headers=["Content-Type"]
        )
        assert await refusal(response) == (415, "unsupported_media_type")


@pytest.mark.parametrize("data", [b'{"text": ', b"\xff\xfe{", b"not json", b"{'a': 1}"])
async def test_malformed_json_is_a_400_on_every_route(api: Api, data: bytes) -> None:
    for method, url, headers in await doors(api):
        sent = {**headers, "Content-Type": "application/json"}
        response = await api.client.request(method, url, data=data, headers=sent)
        assert await refusal(response) == (400, "invalid_json")


async def test_a_body_over_the_cap_is_a_413_on_every_route(api: Api) -> None:
    data = json.dumps({"text": "x" * OVER_THE_CAP}).encode()
    for method, url, headers in await doors(api):
        sent = {**headers, "Content-Type": "application/json; charset=utf-8"}
        response = await api.client.request(method, url, data=data, headers=sent)
        assert await refusal(response) == (413, "payload_too_large")
        assert "65536 bytes" in (await response.json())["error"]["message"]


@pytest.mark.parametrize("levels", [33, 400, 30_000])
async def test_json_nested_too_deep_is_a_400_not_a_crash_on_every_route(
    api: Api, levels: int
) -> None:
    """Deep enough to overflow the parser, the validator or the message that quotes it."""
    data = ("[" * levels + "]" * levels).encode()
    for method, url, headers in await doors(api):
        sent = {**headers, "Content-Type": "application/json"}
        response = await api.client.request(method, url, data=data, headers=sent)
        assert await refusal(response) == (400, "invalid_json")


def test_json_may_nest_32_levels_and_no_more() -> None:
    assert schemas.depth(schemas.loads("[" * 32 + "]" * 32)) == 32
    with pytest.raises(schemas.TooDeep):
        schemas.loads('{"a": ' + "[" * 32 + "]" * 32 + "}")


async def test_json_that_is_not_an_object_is_a_400_on_every_route(api: Api) -> None:
    for method, url, headers in await doors(api):
        response = await api.client.request(method, url, json=[1, 2], headers=headers)
        assert await refusal(response) == (400, "invalid_body")


async def test_no_body_counts_as_empty_whatever_its_label(api: Api) -> None:
    """The console sends a bare action (claim, resolve …) with no body and no Content-Type;
    aiohttp's client labels the same application/octet-stream."""
    ana = await api.agent("ana")
    for label in (None, "application/octet-stream", "application/x-www-form-urlencoded"):
        handoff_id = (await api.escalate())["handoff_id"]
        headers = {"Authorization": f"Bearer {ana}", **({"Content-Type": label} if label else {})}
        response = await api.client.post(
            f"/handoffs/{handoff_id}/claim", headers=headers, skip_auto_headers=["Content-Type"]
        )
        assert response.status == 200, await response.text()


async def test_a_plain_get_on_a_socket_path_gets_the_envelope(client: TestClient) -> None:
    for path in ("/ws/customer", "/ws/agent"):
        assert (await refusal(await client.get(path)))[0] == 400
