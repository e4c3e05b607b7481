"""The handoff service behind Debian's nginx with the shipped configuration, over TLS.

Clients bind their own loopback source addresses (127.0.0.2, 127.0.0.3 …), so each
looks like a different customer to nginx, and so to the service through it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers.nginx import Certificate, Nginx, behind_nginx
from tests.helpers.process import PASSWORD, Service
from tests.helpers.stack import Side
from tools.net import free_port
from tools.serve import ROOT

SESSIONS_PER_MINUTE = 20  # HANDOFF_SESSIONS_PER_MINUTE's default


@asynccontextmanager
async def client(source: str, certificate: Certificate) -> AsyncIterator[aiohttp.ClientSession]:
    """HTTP from one loopback address, trusting the test's certificate authority only."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0), ssl=certificate.client_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session
    # aiohttp closes TLS connections without waiting for their shutdown; its docs ("Graceful
    # Shutdown") give them a moment, else the test's loop may close under an open transport
    # (seen once in CI: EBUSY at teardown).
    await asyncio.sleep(0.25)


async def post_session(
    http: aiohttp.ClientSession, base: str, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with http.post(base + "/sessions", json={}, headers=headers) as response:
        return response.status, await response.json()


def assert_limited(status: int, body: Any) -> None:
    assert status == 429, body
    assert body["error"]["code"] == "too_many_requests", body


async def test_a_customer_starts_a_session_and_chats_over_wss(
    proxy: Nginx, certificate: Certificate
) -> None:
    async with client("127.0.0.2", certificate) as http:
        async with http.post(proxy.origin + "/sessions", json={}) as response:
            assert response.status == 201, await response.text()
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
            session = await response.json()
        wss = proxy.origin.replace("https", "wss", 1) + "/ws/customer"
        async with http.ws_connect(wss, origin=proxy.origin) as socket:
            await socket.send_json({"type": "hello", "token": session["token"], "last_seq": 0})
            side = Side(socket)
            welcome = await side.wait_for("welcome", timeout=15)
            assert welcome["conversation_id"] == session["conversation_id"]
            await socket.send_json({"type": "message", "text": "hello there", "client_id": "m1"})
            ack = await side.wait_for("ack", timeout=15, client_id="m1")
            stored = await side.wait_for("message", timeout=15, client_id="m1")
            assert stored["seq"] == ack["seq"] and stored["text"] == "hello there"
    log = proxy.wait_for_access('"GET /ws/customer HTTP/1.1" 101')
    assert log.startswith("127.0.0.2 "), log  # nginx saw the customer's own address


async def test_plain_http_is_sent_to_https(proxy: Nginx, certificate: Certificate) -> None:
    async with client("127.0.0.2", certificate) as http:
        url = f"http://127.0.0.1:{proxy.http_port}/demo?x=1"
        async with http.get(url, allow_redirects=False) as response:
            assert response.status == 301
            assert response.headers["Location"] == proxy.origin + "/demo?x=1"
        challenge = f"http://127.0.0.1:{proxy.http_port}/.well-known/acme-challenge/token"
        async with http.get(challenge, allow_redirects=False) as response:
            assert response.status == 404  # served from certbot's webroot (none here)


async def test_each_address_through_nginx_gets_its_own_limit(
    proxy: Nginx, certificate: Certificate
) -> None:
    """21 customers from 21 addresses each start a chat; one address asking 21 times is
    stopped at the 21st. Keyed on nginx's address, the 21st customer would be refused."""
    for n in range(2, SESSIONS_PER_MINUTE + 3):
        async with client(f"127.0.0.{n}", certificate) as http:
            status, body = await post_session(http, proxy.origin)
            assert status == 201, (n, body)
    async with client("127.0.0.30", certificate) as http:
        for _ in range(SESSIONS_PER_MINUTE):
            status, body = await post_session(http, proxy.origin)
            assert status == 201, body
        assert_limited(*await post_session(http, proxy.origin))


LOGINS_PER_MINUTE = 10  # HANDOFF_LOGINS_PER_MINUTE's default


async def test_agents_sign_in_per_address_and_open_the_console_socket_over_wss(
    service: Service, proxy: Nginx, certificate: Certificate
) -> None:
    """Someone guessing passwords from one address is stopped; an agent elsewhere is not."""
    service.add_agent("ana")
    login = proxy.origin + "/agent/login"
    async with client("127.0.0.40", certificate) as http:
        for _ in range(LOGINS_PER_MINUTE):  # each counts before the body is even read
            async with http.post(login, json={}) as response:
                assert response.status == 400, await response.text()
        async with http.post(login, json={"name": "ana", "password": PASSWORD}) as response:
            assert_limited(response.status, await response.json())
    async with client("127.0.0.41", certificate) as http:
        async with http.post(login, json={"name": "ana", "password": PASSWORD}) as response:
            assert response.status == 200, await response.text()
            token = (await response.json())["token"]
        wss = proxy.origin.replace("https", "wss", 1) + "/ws/agent"
        async with http.ws_connect(wss, origin=proxy.origin) as socket:
            await socket.send_json({"type": "hello", "token": token})
            welcome = await Side(socket).wait_for("welcome", timeout=15)
            assert welcome["agent"] == "ana"


async def test_the_socket_cap_counts_per_customer_through_nginx(
    tmp_path: Path, certificate: Certificate
) -> None:
    capped = behind_nginx(tmp_path / "capped", certificate, HANDOFF_SOCKETS_PER_ADDRESS="2")
    with capped as (_, nginx):
        wss = nginx.origin.replace("https", "wss", 1) + "/ws/customer"
        async with (
            client("127.0.0.50", certificate) as http,
            http.ws_connect(wss, origin=nginx.origin),
            http.ws_connect(wss, origin=nginx.origin),
        ):
            assert await handshake_status(http, wss, origin=nginx.origin) == 429
            async with client("127.0.0.51", certificate) as other:
                assert await handshake_status(other, wss, origin=nginx.origin) == 101


def spoofed(n: int) -> dict[str, str]:
    """A different made-up client address each time (documentation range; never contacted)."""
    return {"X-Forwarded-For": f"203.0.113.{n}", "X-Forwarded-Proto": "https"}


@pytest.mark.parametrize("route", ["direct from an untrusted peer", "through nginx"])
async def test_a_spoofed_forwarded_for_is_ignored(
    route: str, service: Service, proxy: Nginx, certificate: Certificate
) -> None:
    """Directly, 127.0.0.9 is not a trusted proxy: its header is ignored. Through nginx, the
    client's header is replaced by the address nginx saw. Either way the limit keys on it."""
    base = service.url if route.startswith("direct") else proxy.origin
    async with client("127.0.0.9", certificate) as http:
        for n in range(SESSIONS_PER_MINUTE):
            status, body = await post_session(http, base, spoofed(n))
            assert status == 201, body
        assert_limited(*await post_session(http, base, spoofed(99)))


async def test_the_trusted_proxy_is_believed(service: Service, certificate: Certificate) -> None:
    """The other side of the test above: from nginx's own address the header counts."""
    async with client("127.0.0.1", certificate) as http:
        for n in range(SESSIONS_PER_MINUTE + 1):
            status, body = await post_session(http, service.url, spoofed(n))
            assert status == 201, (n, body)


async def test_an_unreadable_forwarded_header_is_refused_in_the_envelope(
    service: Service, proxy: Nginx, certificate: Certificate
) -> None:
    """From the trusted proxy, a 400 in the JSON envelope; nginx itself never sends one
    (it replaces the client's header), and from anyone else the header is not read."""
    async with client("127.0.0.1", certificate) as http:
        status, body = await post_session(http, service.url, {"X-Forwarded-For": "not-an-ip"})
        assert status == 400 and body["error"]["code"] == "bad_request", body
        twice = [("X-Forwarded-For", "203.0.113.1"), ("X-Forwarded-For", "203.0.113.2")]
        async with http.post(service.url + "/sessions", json={}, headers=twice) as response:
            assert response.status == 400
            assert (await response.json())["error"]["code"] == "invalid_forwarded_header"
    async with client("127.0.0.9", certificate) as http:
        for base in (proxy.origin, service.url):
            status, body = await post_session(http, base, {"X-Forwarded-For": "not-an-ip"})
            assert status == 201, (base, body)


async def handshake_status(http: aiohttp.ClientSession, url: str, **options: Any) -> int:
    try:
        async with http.ws_connect(url, **options):
            return 101
    except aiohttp.WSServerHandshakeError as error:
        return error.status


async def test_the_socket_origin_check_sees_the_public_origin(
    service: Service, proxy: Nginx, certificate: Certificate
) -> None:
    wss = proxy.origin.replace("https", "wss", 1) + "/ws/customer"
    direct = service.url.replace("http", "ws", 1) + "/ws/customer"
    forged = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    async with client("127.0.0.2", certificate) as http:
        assert await handshake_status(http, wss, origin=proxy.origin) == 101
        # Another site cannot pass for this one by naming itself in a forwarded header.
        assert (
            await handshake_status(http, wss, origin="https://evil.example", headers=forged) == 403
        )
    async with client("127.0.0.9", certificate) as http:
        # Nor can a client that skips nginx claim to have come over https.
        own_over_tls = f"https://127.0.0.1:{service.port}"
        assert await handshake_status(http, direct, origin=own_over_tls, headers=forged) == 403


async def test_nginx_refuses_a_body_larger_than_the_service_takes(
    proxy: Nginx, certificate: Certificate
) -> None:
    big = b'{"customer_ref": "' + b"x" * (64 * 1024) + b'"}'
    async with client("127.0.0.2", certificate) as http:
        headers = {"Content-Type": "application/json"}
        async with http.post(proxy.origin + "/sessions", data=big, headers=headers) as response:
            assert response.status == 413
            assert (await response.json())["error"]["code"] == "payload_too_large"


async def test_the_studios_sheets_and_articles_may_be_larger(
    proxy: Nginx, certificate: Certificate
) -> None:
    """A 1 MB sheet and a 100 KB article reach the service (which asks who is sending
    them), while a chat's 64 KiB limit stays everywhere else."""
    sizes = {"/studio/api/faq-sheet": 1_000_000, "/studio/api/articles/refunds": 100_000}
    async with client("127.0.0.2", certificate) as http:
        for path, size in sizes.items():
            body = b'{"content": "' + b"x" * size + b'"}'
            headers = {"Content-Type": "application/json"}
            method = http.put if "articles" in path else http.post
            async with method(proxy.origin + path, data=body, headers=headers) as response:
                assert response.status == 401, path
                assert (await response.json())["error"]["code"] == "missing_token"
        big = b'{"text": "' + b"x" * 100_000 + b'"}'
        async with http.post(proxy.origin + "/studio/api/faq-checks", data=big) as response:
            assert response.status == 413


async def test_metrics_stay_off_the_internet(
    service: Service, proxy: Nginx, certificate: Certificate
) -> None:
    async with client("127.0.0.2", certificate) as http:
        async with http.get(proxy.origin + "/metrics") as response:
            assert response.status == 403
            assert (await response.json())["error"]["code"] == "forbidden"
        async with http.get(service.url + "/metrics") as response:  # Prometheus, on loopback
            assert response.status == 200


async def test_with_the_service_down_nginx_answers_in_the_envelope(
    tmp_path: Path, certificate: Certificate
) -> None:
    nginx = Nginx(tmp_path / "nginx", f"127.0.0.1:{free_port()}", certificate)  # nobody there
    nginx.start()
    try:
        async with (
            client("127.0.0.2", certificate) as http,
            http.post(nginx.origin + "/sessions", json={}) as response,
        ):
            assert response.status == 503
            assert response.headers["Retry-After"] == "5"
            assert (await response.json())["error"]["code"] == "unavailable"
    finally:
        nginx.stop()


def test_a_trusted_proxy_that_is_not_an_address_stops_the_service_at_start(
    tmp_path: Path,
) -> None:
    env = dict(Service(tmp_path).env, HANDOFF_TRUSTED_PROXIES="127.0.0.1, nginx")
    command = [sys.executable, "-m", "handoff"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)  # noqa: S603 - fixed argv built here, no shell
    assert result.returncode == 2, result.stderr
    assert "HANDOFF_TRUSTED_PROXIES: 'nginx' is not an IP address or network" in result.stderr
