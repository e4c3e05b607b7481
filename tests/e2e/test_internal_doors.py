"""Issue 12's closed doors, tried from outside against the running system.

Rasa and the action server listen on loopback only: another host on a private link gets
"connection refused" where a throwaway listener on every interface answers. On loopback
each door wants its own key: Rasa's HTTP API and its handoff channel the Rasa token, the
action server its token; Rasa's open REST channel is gone. And a page from another origin
cannot read a tracker even with the token in the URL, because Rasa sends no CORS headers.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.helpers.chromium import chromium_page
from tests.helpers.netns import Link, private_link
from tools.serve import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    url: str, body: Any = None, token: str = "", method: str | None = None, **extra: str
) -> Answer:
    """One HTTP request on loopback; any status is an answer, not an exception."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **extra}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    sent = urllib.request.Request(url, data, headers, method=method)  # noqa: S310 - an http URL on loopback, built here
    try:
        with urllib.request.urlopen(sent, timeout=60) as response:  # noqa: S310 - an http URL on loopback, built here
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


def rasa_conversation(stack: Stack) -> str:
    """A conversation with something in it to steal: one FAQ answered over the channel."""
    sender = f"doors-{uuid.uuid4().hex[:8]}"
    url = f"{stack.rasa_url}/webhooks/handoff/webhook"
    body = {"sender": sender, "message": "how much is shipping?"}
    answer = request(url, body, stack.keys.rasa_token)
    assert answer.status == 200 and "$6.95" in answer.body.decode(), answer
    return sender


# --- from another host -------------------------------------------------------------------


@pytest.fixture(scope="module")
def link() -> Iterator[Link]:
    with private_link() as made:
        yield made


@pytest.fixture
def listener_on_every_interface() -> Iterator[int]:
    """A port bound to 0.0.0.0, as Rasa SDK's own server would bind: the control."""
    with socket.socket() as listener:
        listener.bind(("0.0.0.0", 0))  # noqa: S104 - a control listener, to show the namespace reaches this host
        listener.listen(4)
        yield listener.getsockname()[1]


def test_another_host_is_refused_by_rasa_and_the_action_server(
    stack: Stack, link: Link, listener_on_every_interface: int
) -> None:
    # The control: through the same link, a port open on every interface is reached.
    assert link.connect(listener_on_every_interface) == "connected"
    for port in (stack.rasa_port, stack.actions_port):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # they do listen
        assert link.connect(port) == "refused", f"port {port} answered {link.host_address}"


# --- on loopback: a key per door ---------------------------------------------------------


def test_rasa_http_api_wants_the_rasa_token(stack: Stack) -> None:
    sender, token = rasa_conversation(stack), stack.keys.rasa_token
    for path in ("/status", f"/conversations/{sender}/tracker"):
        assert request(stack.rasa_url + path).status == 401, path
        assert request(f"{stack.rasa_url}{path}?token=wrong-{token}").status == 401, path
        assert request(f"{stack.rasa_url}{path}?token={token}").status == 200, path


def test_the_handoff_channel_wants_the_rasa_token(stack: Stack) -> None:
    url, body = f"{stack.rasa_url}/webhooks/handoff/webhook", {"sender": "x", "message": "hi"}
    for token in ("", "wrong", stack.keys.actions_token):  # no key, a guess, another door's
        answer = request(url, body, token)
        assert answer.status == 401, token
        assert answer.json()["error"]["code"] == "unauthorized"


def test_rasa_open_rest_channel_is_gone(stack: Stack) -> None:
    body = {"sender": "x", "message": "how much is shipping?"}
    for token in ("", stack.keys.rasa_token):  # not refused: not there at all
        assert request(f"{stack.rasa_url}/webhooks/rest/webhook", body, token).status == 404


@pytest.mark.parametrize(("method", "path"), [("POST", "/webhook"), ("GET", "/actions")])
def test_the_action_server_wants_its_token(stack: Stack, method: str, path: str) -> None:
    body = {"next_action": "action_handoff", "sender_id": "x"} if method == "POST" else None
    for token in ("", "wrong", stack.keys.rasa_token):
        answer = request(stack.actions_url + path, body, token, method)
        assert answer.status == 401, (path, token)
        assert answer.json() == {
            "error": {"code": "unauthorized", "message": "Send the install's action server token."}
        }
    listed = request(stack.actions_url + "/actions", token=stack.keys.actions_token)
    assert listed.status == 200 and {"name": "action_handoff"} in listed.json()


def test_the_action_server_health_is_open(stack: Stack) -> None:
    assert request(stack.actions_url + "/health").status == 200


# --- in a browser: another origin ---------------------------------------------------------

# The other site's page: fetch the tracker (and, as the control, a file of its own origin)
# and write down what it could read.
ATTACKER_PAGE = """<!doctype html><title>waiting</title><body><script>
async function probe(url) {
  try {
    const response = await fetch(url);
    return "read " + response.status + ": " + (await response.text());
  } catch (error) {
    return "blocked: " + error.name;
  }
}
Promise.all([probe(%(tracker)s), probe("/own.json")]).then(function (found) {
  document.body.dataset.tracker = found[0];
  document.body.dataset.own = found[1];
  document.title = "done";
});
</script></body>"""


@contextmanager
def other_site(tracker_url: str) -> Iterator[str]:
    """A throwaway site on another loopback port (so another origin): its origin."""
    page = (ATTACKER_PAGE % {"tracker": json.dumps(tracker_url)}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = (b'{"own": true}', "application/json")
            if self.path == "/":
                body, kind = page, "text/html"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_from_another_origin_cannot_read_a_tracker(stack: Stack) -> None:
    sender = rasa_conversation(stack)
    tracker = f"{stack.rasa_url}/conversations/{sender}/tracker?token={stack.keys.rasa_token}"
    with other_site(tracker) as origin, chromium_page() as page:
        page.goto(origin + "/")
        page.wait_for_function("document.title === 'done'", timeout=30_000)
        stolen = page.evaluate("document.body.dataset.tracker")
        own = page.evaluate("document.body.dataset.own")
        # The same fetch from Rasa's own origin reads the tracker: only the origin differs.
        page.goto(stack.rasa_url + "/")
        from_rasa = page.evaluate("async url => (await fetch(url)).text()", tracker)
    assert stolen == "blocked: TypeError"  # the body never reached the page's script
    assert own == 'read 200: {"own": true}'  # the page itself can fetch and read
    assert json.loads(from_rasa)["sender_id"] == sender
    # Rasa did answer the other origin (the token is good) but allowed it nothing.
    answered = request(tracker, Origin=origin)
    assert answered.status == 200
    assert not any(name.lower().startswith("access-control-") for name in answered.headers)
