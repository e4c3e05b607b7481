"""Schemathesis over the OpenAPI document the running service serves.

A real ``python -m handoff`` on a throwaway SQLite database, with an agent, a customer
session and a few handoffs made first, so generated requests carry working tokens and
reach past the guards into the views and the store. Valid and invalid requests alike
must never meet a server error, and every refusal is a JSON 4xx in the error envelope.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
)

from handoff.routes import ROUTER_PATTERNS, ROUTES
from studio.content import Content
from tests.helpers.service import SERVICE_TOKEN, record
from tools.net import free_port, wait_http
from tools.serve import ROOT

PASSWORD = "fuzz-password"  # noqa: S105 - a test credential; guards nothing real
HANDOFFS = 6
# Fuzzed examples per operation, besides the boundary cases of the coverage phase: enough
# to find a crash, few enough for `make test` (about a minute on two cores).
MAX_EXAMPLES = 20
LEAKS = ("Traceback", "SELECT ", "INSERT ", "UPDATE ", "sqlalchemy", "sqlite3.")
CONVERSATION_ID = re.compile(ROUTER_PATTERNS["conversation_id"])


@dataclass
class Service:
    """The running service and the credentials made before fuzzing."""

    url: str
    agent_token: str = ""
    editor_token: str = ""
    logout_token: str = ""
    customer_token: str = ""
    conversation_id: str = ""
    handoff_ids: list[int] = field(default_factory=list)

    def post(self, path: str, body: dict[str, Any], token: str = "") -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.post(self.url + path, json=body, headers=headers, timeout=10)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    def login(self) -> str:
        return str(self.post("/agent/login", {"name": "fuzz", "password": PASSWORD})["token"])

    def spare_token(self) -> str:
        """A token of its own for logging out, so the shared one lives; renewed once used."""
        headers = {"Authorization": f"Bearer {self.logout_token}"}
        if requests.get(self.url + "/agent/me", headers=headers, timeout=10).status_code != 200:
            self.logout_token = self.login()
        return self.logout_token

    def token_for(self, case: Case) -> str:
        """The bearer token the operation's one tag asks for."""
        if case.operation.path == "/agent/logout":
            return self.spare_token()
        tag = (case.operation.tags or ["public"])[0]
        tokens = {
            "agent": self.agent_token,
            "editor": self.editor_token,
            "customer": self.customer_token,
            "service": SERVICE_TOKEN,
        }
        return tokens.get(tag, "")


def environment(tmp: Path, port: int) -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONUNBUFFERED="1",
        HANDOFF_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'handoff.db'}",
        HANDOFF_PORT=str(port),
        HANDOFF_SERVICE_TOKEN=SERVICE_TOKEN,
        # Nothing listens on port 9: handing a chat back answers 502 rasa_unavailable.
        HANDOFF_RASA_URL="http://127.0.0.1:9",
        # Rate limits would answer 429 before the code behind them runs.
        HANDOFF_CUSTOMER_MESSAGES_PER_MINUTE="100000",
        HANDOFF_LOGINS_PER_MINUTE="100000",
        HANDOFF_SESSIONS_PER_MINUTE="100000",
        HANDOFF_AGENT_PASSWORD=PASSWORD,
        # The studio's checks and labels stay in the test's copy, never in the checkout.
        HANDOFF_CONTENT_DIR=str(tmp / "content"),
        HANDOFF_STUDIO_DIR=str(tmp / "studio"),
    )


def add_agents(env: dict[str, str]) -> None:
    for name, role in (("fuzz", "agent"), ("colleague", "agent"), ("fuzz-editor", "editor")):
        command = [sys.executable, "-m", "handoff", "add-agent", name, "--capacity", "50"]
        command += ["--role", role]
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=60)  # noqa: S603 - fixed argv built here, no shell


def prepare(service: Service) -> None:
    """An available agent, a customer conversation, and handoffs (one of them the customer's)."""
    service.agent_token = service.login()
    editor = {"name": "fuzz-editor", "password": PASSWORD}
    service.editor_token = str(service.post("/agent/login", editor)["token"])
    headers = {"Authorization": f"Bearer {service.agent_token}"}
    response = requests.put(
        service.url + "/agent/me/availability",
        json={"available": True},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    session = service.post("/sessions", {"customer_ref": "fuzz-customer"})
    service.conversation_id, service.customer_token = session["conversation_id"], session["token"]
    for n in range(HANDOFFS):
        body = record(service.conversation_id if n == 0 else None)
        service.handoff_ids.append(service.post("/handoffs", body, SERVICE_TOKEN)["handoff_id"])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """``python -m handoff`` on a free port and a fresh database, with credentials ready."""
    tmp = tmp_path_factory.mktemp("openapi")
    Content(ROOT).snapshot(tmp / "content")  # what the studio's routes read and write
    port = free_port()
    env = environment(tmp, port)
    add_agents(env)
    log = tmp / "handoff.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "handoff"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_http(url + "/healthz", process, timeout=60, log=log)
            running = Service(url)
            prepare(running)
            yield running
        finally:
            process.terminate()
            process.wait(timeout=30)
    output = log.read_text()
    # An exception the error middleware caught still leaves its trace in the log.
    assert "Traceback" not in output, output[output.find("Traceback") :][:3000]


@pytest.fixture(scope="module")
def api_schema(service: Service) -> schemathesis.BaseSchema:
    """The document as served, generating positive and negative cases, reproducibly."""
    schema = schemathesis.openapi.from_url(service.url + "/openapi.json")
    # The tokens are real ones set per operation (see `aim`), not generated.
    schema.config.generation.update(
        max_examples=MAX_EXAMPLES,
        deterministic=True,
        database="none",
        with_security_parameters=False,
    )
    # Any 4xx is a fair refusal of bad input (413 for an oversized body, too); a 5xx never is.
    schema.config.checks.negative_data_rejection.expected_statuses = ["4xx"]
    return schema


def aim(case: Case, service: Service) -> dict[str, str]:
    """Point a case at the prepared records, leaving deliberately invalid values as they are.

    Returns the headers to send: the token the operation asks for.
    """
    params = case.path_parameters or {}
    conversation_id = params.get("conversation_id")
    if isinstance(conversation_id, str) and CONVERSATION_ID.fullmatch(conversation_id):
        params["conversation_id"] = service.conversation_id
    handoff_id = params.get("handoff_id")
    if isinstance(handoff_id, int) and not isinstance(handoff_id, bool) and handoff_id >= 1:
        params["handoff_id"] = service.handoff_ids[handoff_id % len(service.handoff_ids)]
    token = service.token_for(case)
    return {"Authorization": f"Bearer {token}"} if token else {}


def no_server_error(ctx: CheckContext, response: Response, case: Case) -> None:
    """No 5xx, except the documented 502 when Rasa cannot take a chat back."""
    if response.status_code == 502 and error_code(response) == "rasa_unavailable":
        return
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"


def error_envelope(ctx: CheckContext, response: Response, case: Case) -> None:
    """Every refusal is JSON: ``{"error": {"code": str, "message": str}}``."""
    if response.status_code < 400:
        return
    assert response.headers.get("content-type", [""])[0].startswith("application/json")
    error = json.loads(response.text)["error"]
    assert isinstance(error["code"], str), error
    assert isinstance(error["message"], str), error


def leaks_nothing(ctx: CheckContext, response: Response, case: Case) -> None:
    """No trace, SQL or driver name in any answer."""
    for leak in LEAKS:
        assert leak not in response.text, f"{leak!r} in {response.text[:500]}"


def error_code(response: Response) -> str | None:
    try:
        return str(json.loads(response.text)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


CHECKS = [
    no_server_error,
    error_envelope,
    leaks_nothing,
    negative_data_rejection,
    content_type_conformance,
    ignored_auth,
]
served_schema = schemathesis.pytest.from_fixture("api_schema")


@served_schema.parametrize()
def test_generated_requests_get_sound_answers(case: Case, service: Service) -> None:
    """Valid and invalid requests to every operation, with the caller's real token."""
    headers = aim(case, service)
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)


def served_document(service: Service) -> dict[str, Any]:
    with urllib.request.urlopen(service.url + "/openapi.json", timeout=10) as response:  # noqa: S310 - an http URL on loopback, built here
        return dict(json.loads(response.read()))


def test_served_document_is_valid_openapi_3_0(service: Service) -> None:
    document = served_document(service)
    assert document["openapi"].startswith("3.0.")
    schemathesis.openapi.from_dict(document).validate()  # against the OpenAPI 3.0 meta-schema
    served = {
        f"{method.upper()} {path}" for path, ops in document["paths"].items() for method in ops
    }
    assert served == {f"{route.method} {route.path}" for route in ROUTES}


def test_every_operation_has_one_known_tag(service: Service) -> None:
    for path, methods in served_document(service)["paths"].items():
        for method, operation in methods.items():
            assert operation["tags"] in (
                ["public"],
                ["agent"],
                ["editor"],
                ["customer"],
                ["service"],
            ), (
                method,
                path,
            )
