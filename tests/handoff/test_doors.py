"""Bad input at every door gets a clear answer: the JSON envelope over HTTP, a close code
(or an ``error`` frame) on the sockets. Against the real app; the flood of sockets from
one address is in ``test_flood.py``, against the real process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, make_mocked_request

from handoff import schemas
from handoff.app import create_app
from handoff.errors import TooManyRequests
from handoff.gateway import SOCKETS, capped
from handoff.routes import ROUTES
from handoff.settings import Settings
from handoff.state import SETTINGS
from tests.helpers.doors import UPGRADE, upgrade
from tests.helpers.service import SERVICE_TOKEN, Api, record, start

Socket = aiohttp.ClientWebSocketResponse
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
    tokens["editor"] = await api.agent("eve", role="editor")
    found = []
    for method, path, tag in await bodied_operations(api.client):
        ids = {"check_id": 1, "version_id": 1, "miss_id": 1, "key": "gift_wrap", "slug": "refunds"}
        # (the body is read first)
        url = path.format(conversation_id=conversation_id, handoff_id=handoff_id, **ids)
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


# The sheet route's cap is 2.7 MB: aiohttp warns of sending that much as bytes, which
# this test does on purpose (a stream would be answered mid-upload, and read as garbage).
@pytest.mark.filterwarnings("ignore:Sending a large body directly:ResourceWarning")
async def test_a_body_over_the_cap_is_a_413_on_every_route(api: Api) -> None:
    """The service's cap, or a route's own larger one (the studio's sheets and articles)."""
    caps = {route.path: route.max_body for route in ROUTES if route.max_body}
    found = await doors(api)
    paths = [path for _, path, _ in await bodied_operations(api.client)]  # in doors' order
    for (method, url, headers), path in zip(found, paths, strict=True):
        cap = caps.get(path, 65536)
        data = json.dumps({"text": "x" * (cap + OVER_THE_CAP - 65536)}).encode()
        sent = {**headers, "Content-Type": "application/json; charset=utf-8"}
        response = await api.client.request(method, url, data=data, headers=sent)
        assert await refusal(response) == (413, "payload_too_large")
        assert f"{cap} bytes" in (await response.json())["error"]["message"]


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


# --- sockets: frames ---------------------------------------------------------------


async def closed_with(socket: Socket) -> int | None:
    """Read until the socket closes; its close code."""
    while True:
        frame = await asyncio.wait_for(socket.receive(), 5)
        if frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR):
            return socket.close_code


async def next_event(socket: Socket, kind: str) -> dict[str, Any]:
    while True:
        event = await asyncio.wait_for(socket.receive_json(), 5)
        if event["type"] == kind:
            return dict(event)


async def greeted(api: Api, path: str) -> Socket:
    """A socket that has said hello with a working token and been welcomed."""
    token = (await api.session())[1] if path == "/ws/customer" else await api.agent("ana")
    socket = await api.client.ws_connect(path)
    await socket.send_json({"type": "hello", "token": token})
    await next_event(socket, "welcome")
    return socket


PATHS = ["/ws/customer", "/ws/agent"]


@pytest.mark.parametrize("path", PATHS)
async def test_an_oversize_frame_closes_with_1009(api: Api, path: str) -> None:
    cap = api.client.app[SETTINGS].max_body_bytes
    socket = await api.client.ws_connect(path, max_msg_size=0)
    await socket.send_str("x" * (cap + 1))  # before hello
    assert await closed_with(socket) == 1009
    socket = await greeted(api, path)
    await socket.send_str(json.dumps({"type": "message", "text": "x" * cap}))
    assert await closed_with(socket) == 1009


@pytest.mark.parametrize("path", PATHS)
async def test_a_binary_frame_closes_with_1003(api: Api, path: str) -> None:
    socket = await api.client.ws_connect(path)
    await socket.send_bytes(b'{"type": "hello", "token": "x"}')
    assert await closed_with(socket) == 1003
    socket = await greeted(api, path)
    await socket.send_bytes(b"\x00\x01")
    assert await closed_with(socket) == 1003


@pytest.mark.parametrize("path", PATHS)
async def test_text_that_is_not_one_json_object_gets_an_error_frame(api: Api, path: str) -> None:
    socket = await greeted(api, path)
    for text in ("not json", "[1, 2]", '"hello"', "{"):
        await socket.send_str(text)
        event = await next_event(socket, "error")
        assert event["code"] == "invalid_json"
    await socket.send_json({"type": "wave"})  # still open, and still listening
    assert (await next_event(socket, "error"))["code"] == "unknown_type"
    await socket.close()


@pytest.mark.parametrize("path", PATHS)
async def test_a_frame_nested_too_deep_gets_an_error_frame(api: Api, path: str) -> None:
    socket = await greeted(api, path)
    for levels in (33, 30_000):
        await socket.send_str('{"type": "message", "text": ' + "[" * levels + "]" * levels + "}")
        assert (await next_event(socket, "error"))["code"] == "invalid_json"
    await socket.close()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "first", ['{"type": "message", "text": "hi"}', "not json", "[]", '{"type": "hello"}']
)
async def test_anything_but_hello_first_closes_with_4401(
    client: TestClient, path: str, first: str
) -> None:
    socket = await client.ws_connect(path)
    await socket.send_str(first)
    assert await closed_with(socket) == 4401


async def test_a_socket_that_never_says_hello_is_closed_after_the_timeout(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("handoff.gateway.HELLO_TIMEOUT_S", 0.2)
    socket = await client.ws_connect("/ws/customer")
    assert await closed_with(socket) == 4401


# --- sockets: how many one address may hold -----------------------------------------


def open_sockets(client: TestClient) -> int:
    return client.app[SOCKETS].open["127.0.0.1"]


async def until(condition: Callable[[], bool], timeout: float = 5) -> None:
    """Wait for a condition to hold (looked at every 10 ms)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


@pytest.fixture
async def room_for_two(settings: Settings) -> AsyncIterator[TestClient]:
    """The app with room for two sockets per address."""
    running = await start(replace(settings, sockets_per_address=2))
    yield running
    await running.close()


async def test_past_the_cap_an_upgrade_is_refused_with_a_429_envelope(
    room_for_two: TestClient,
) -> None:
    api = Api(room_for_two)
    held = [await greeted(api, "/ws/customer"), await greeted(api, "/ws/agent")]
    for path in PATHS:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await room_for_two.ws_connect(path)
        assert refused.value.status == 429
        response = await room_for_two.get(path, headers=UPGRADE)
        assert await refusal(response) == (429, "too_many_sockets")
    assert (await room_for_two.get("/healthz")).status == 200  # plain HTTP is not counted
    await held[0].close()
    await until(lambda: open_sockets(room_for_two) < 2)
    held.append(await greeted(api, "/ws/customer"))  # the place it left is free again
    for socket in held:
        await socket.close()
    await until(lambda: open_sockets(room_for_two) == 0)


@pytest.mark.parametrize("say_hello", [False, True])
async def test_a_socket_that_drops_without_closing_gives_its_place_back(
    room_for_two: TestClient, say_hello: bool
) -> None:
    _, token = await Api(room_for_two).session()
    for _ in range(3):  # more than the cap
        dropped = await upgrade(str(room_for_two.host), int(room_for_two.port or 0), "/ws/customer")
        assert dropped.status == 101
        if say_hello:
            await dropped.send_text(json.dumps({"type": "hello", "token": token}))
            await dropped.reader.readexactly(2)  # the welcome frame's header: it is in
        dropped.abort()
        await until(lambda: open_sockets(room_for_two) == 0)


async def test_places_are_given_back_when_the_service_shuts_down(settings: Settings) -> None:
    running = await start(settings)
    api = Api(running)
    for path in PATHS:
        await greeted(api, path)
    assert open_sockets(running) == 2
    await running.close()  # the sockets are still open: their handlers are ended
    assert open_sockets(running) == 0


async def test_a_place_is_given_back_when_the_handler_is_cancelled() -> None:
    app, entered = create_app(replace(Settings(), sockets_per_address=1)), asyncio.Event()

    @capped
    async def forever(request: web.Request) -> web.StreamResponse:
        entered.set()
        await asyncio.Event().wait()
        raise AssertionError("never ends")

    request = make_mocked_request("GET", "/ws/customer", app=app).clone(remote="203.0.113.7")
    task = asyncio.ensure_future(forever(request))
    await entered.wait()
    with pytest.raises(TooManyRequests):
        await forever(request)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "203.0.113.7" not in app[SOCKETS].open
