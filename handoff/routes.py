"""Every route in one table: view, caller, body. The OpenAPI document is built from it.

Guards run before the view, so no agent route can forget its token check:

- ``agent``: ``Authorization: Bearer <agent token>`` from ``POST /agent/login``;
- ``customer``: the conversation's own token from ``POST /sessions``;
- ``editor``: an editor's or lead's token (the studio; agents are refused);
- ``service``: the shared ``HANDOFF_SERVICE_TOKEN`` (the action server and its outbox);
- ``public``: anyone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from handoff import schemas, studio_views, views
from handoff.auth import bearer, same_secret
from handoff.db.accounts import STUDIO_ROLES
from handoff.errors import Forbidden, Unauthorized
from handoff.state import ACCOUNTS, AGENT, CONVERSATION, SETTINGS, STORE

View = Callable[[web.Request], Awaitable[web.StreamResponse]]
PATH_PARAMS = {
    "handoff_id": {"type": "integer", "minimum": 1, "maximum": 999_999_999},
    "conversation_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:@-]{1,64}$"},
    "miss_id": {"type": "integer", "minimum": 1, "maximum": 999_999_999},
    "check_id": {"type": "integer", "minimum": 1, "maximum": 999_999_999},
    "version_id": {"type": "integer", "minimum": 1, "maximum": 999_999_999},
    "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{2,40}$"},
    "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,79}$"},
}
ROUTER_PATTERNS = {
    "handoff_id": r"[1-9]\d{0,8}",
    "conversation_id": r"[A-Za-z0-9_.:@-]{1,64}",
    "miss_id": r"[1-9]\d{0,8}",
    "check_id": r"[1-9]\d{0,8}",
    "version_id": r"[1-9]\d{0,8}",
    "key": r"[a-z][a-z0-9_]{2,40}",
    "slug": r"[a-z0-9][a-z0-9-]{0,79}",
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    view: View
    auth: str  # public, agent, customer, service
    summary: str
    body: schemas.Schema | None = None
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: bool = False  # answers 201 on success
    accepted: bool = False  # answers 202: the work goes on after the answer
    answers: str = "application/json"  # the media type of a success
    max_body: int | None = None  # bytes, when over the service's HANDOFF_MAX_BODY_BYTES


H = "/handoffs/{handoff_id}"
S = "/studio/api"
STUDIO = [
    Route("GET", S + "/me", studio_views.me, "editor", "The signed-in editor"),
    Route(
        "GET",
        S + "/inbox",
        studio_views.inbox,
        "editor",
        "Misunderstood customer messages, grouped by topic, largest first",
        query={
            "limit": {"type": "integer", "minimum": 1, "maximum": 500},
            "members": {"type": "integer", "minimum": 1, "maximum": 500},
        },
    ),
    Route("GET", S + "/misses/{miss_id}", studio_views.miss, "editor", "A message and its turns"),
    Route(
        "GET", S + "/targets", studio_views.targets, "editor", "Every intent and FAQ to label as"
    ),
    Route(
        "POST",
        S + "/labels",
        studio_views.label,
        "editor",
        "Label messages: an intent, an FAQ, a new FAQ, out of scope, or ignore",
        schemas.LABEL,
        created=True,
    ),
    Route("GET", S + "/checks", studio_views.checks, "editor", "Recent checks"),
    Route(
        "POST",
        S + "/checks",
        studio_views.request_check,
        "editor",
        "Check data/ as it is now: validate, train, gate (queued behind a running check)",
        schemas.EMPTY,
        accepted=True,
    ),
    Route(
        "GET",
        S + "/checks/{check_id}",
        studio_views.check,
        "editor",
        "A check's stages, live, and its report",
    ),
    Route(
        "POST",
        S + "/checks/{check_id}/publish",
        studio_views.publish,
        "editor",
        "Make a passed check's model live",
        schemas.EMPTY,
    ),
    Route("GET", S + "/versions", studio_views.versions, "editor", "Published versions"),
    Route(
        "GET",
        S + "/versions/{version_id}",
        studio_views.version,
        "editor",
        "A version's report and the diff of data/ it carried",
    ),
    Route(
        "POST",
        S + "/versions/{version_id}/restore",
        studio_views.roll_back,
        "editor",
        "Roll back: make this version live again, data/ included",
        schemas.EMPTY,
    ),
    Route("GET", S + "/changes", studio_views.changes, "editor", "Who changed what, newest first"),
    Route(
        "GET",
        S + "/faqs",
        studio_views.faqs,
        "editor",
        "Every FAQ, with how often it answered customers in the last 30 days and their votes",
        query={"q": {"type": "string", "maxLength": 200}},
    ),
    Route(
        "POST",
        S + "/faqs",
        studio_views.create_faq,
        "editor",
        "A new FAQ: its key, answer, article and phrases",
        schemas.FAQ_CREATE,
        created=True,
    ),
    Route("GET", S + "/faqs/{key}", studio_views.faq, "editor", "An FAQ, its phrases, its version"),
    Route(
        "PUT",
        S + "/faqs/{key}",
        studio_views.save_faq,
        "editor",
        "Save an FAQ's answer and phrases (409 stale_edit if it changed since `version`)",
        schemas.FAQ_SAVE,
    ),
    Route(
        "POST",
        S + "/faqs/{key}/rename",
        studio_views.rename_faq,
        "editor",
        "Rename an FAQ in every file that names it",
        schemas.FAQ_RENAME,
    ),
    Route(
        "POST",
        S + "/faqs/{key}/retire",
        studio_views.retire_faq,
        "editor",
        "Retire an FAQ: its phrases move to the intent or FAQ named",
        schemas.FAQ_RETIRE,
    ),
    Route(
        "POST",
        S + "/faq-checks",
        studio_views.check_faq,
        "editor",
        "The content checks on an FAQ as typed, before it is saved",
        schemas.FAQ_DRAFT,
    ),
    Route(
        "GET",
        S + "/faq-sheet",
        studio_views.export_faqs,
        "editor",
        "The FAQs as a CSV sheet, one row each, that the import reads back unchanged",
        answers="text/csv",
    ),
    Route(
        "POST",
        S + "/faq-sheet",
        studio_views.import_faqs,
        "editor",
        "Import FAQs from a CSV or .xlsx sheet (base64): a dry run, or with apply every good row",
        schemas.SHEET,
        max_body=studio_views.SHEET_BODY_BYTES,
    ),
    Route("GET", S + "/content-checks", studio_views.content_checks, "editor", "Every finding"),
    Route("GET", S + "/articles", studio_views.articles, "editor", "Every help article"),
    Route(
        "POST",
        S + "/articles",
        studio_views.create_article,
        "editor",
        "A new help article",
        schemas.ARTICLE_CREATE,
        created=True,
        max_body=studio_views.ARTICLE_BODY_BYTES,
    ),
    Route(
        "GET",
        S + "/articles/{slug}",
        studio_views.article,
        "editor",
        "An article, its Markdown, and each passage as the bot would quote it",
    ),
    Route(
        "PUT",
        S + "/articles/{slug}",
        studio_views.save_article,
        "editor",
        "Save an article (409 stale_edit if it changed since `version`; a new slug relinks)",
        schemas.ARTICLE_SAVE,
        max_body=studio_views.ARTICLE_BODY_BYTES,
    ),
    Route(
        "POST",
        S + "/article-preview",
        studio_views.preview_article,
        "editor",
        "An unsaved article's passages, as the bot would quote them",
        schemas.ARTICLE_CREATE,
        max_body=studio_views.ARTICLE_BODY_BYTES,
    ),
]
C = "/conversations/{conversation_id}"
ROUTES = [
    Route("GET", "/healthz", views.healthz, "public", "Up, and the database answers"),
    Route(
        "GET",
        "/metrics",
        views.metrics,
        "public",
        "Prometheus text: queue, speed, CSAT",
        answers="text/plain",
    ),
    Route(
        "POST",
        "/sessions",
        views.open_session,
        "public",
        "Start a customer conversation (a signed customer_ref links the customer's history)",
        schemas.SESSION,
        created=True,
    ),
    Route("POST", "/agent/login", views.login, "public", "Log an agent in", schemas.LOGIN),
    Route(
        "POST",
        "/handoffs",
        views.create_handoff,
        "service",
        "Queue an escalation (idempotent by its key)",
        schemas.HANDOFF,
        created=True,
    ),
    Route(
        "GET", C, views.conversation, "customer", "The customer's conversation and place in line"
    ),
    Route(
        "GET",
        C + "/messages",
        views.customer_messages,
        "customer",
        "Messages after a sequence number",
        query={"after": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}},
    ),
    Route(
        "POST",
        C + "/messages",
        views.customer_say,
        "customer",
        "Send a message (once per client id)",
        schemas.CUSTOMER_MESSAGE,
        created=True,
    ),
    Route(
        "POST",
        C + "/offline",
        views.leave_email,
        "customer",
        "Nobody can answer now: leave an email for an offline ticket",
        schemas.OFFLINE,
    ),
    Route("POST", C + "/leave", views.leave, "customer", "The customer left", schemas.EMPTY),
    Route(
        "POST",
        C + "/feedback",
        views.rate_answer,
        "customer",
        "Helpful or not: the customer's 👍/👎 under an FAQ or article answer",
        schemas.FEEDBACK,
    ),
    Route(
        "POST",
        C + "/csat",
        views.rate,
        "customer",
        "Rate the conversation 1-5",
        schemas.CSAT,
        created=True,
    ),
    Route("POST", "/agent/logout", views.logout, "agent", "End this token", schemas.EMPTY),
    Route("GET", "/agent/me", views.me, "agent", "The signed-in agent"),
    Route(
        "PUT",
        "/agent/me/availability",
        views.set_availability,
        "agent",
        "Available for new chats, or away",
        schemas.AVAILABILITY,
    ),
    Route("GET", "/agents", views.agent_list, "agent", "Every agent (to reassign to)"),
    Route("GET", "/queue", views.queue, "agent", "Waiting handoffs in the order to take them"),
    Route(
        "POST",
        "/queue/claim-next",
        views.claim_next,
        "agent",
        "Claim the next in line",
        schemas.EMPTY,
    ),
    Route("GET", H, views.detail, "agent", "Reason, summary, score trail, transcript, notes"),
    Route(
        "GET", H + "/history", views.history, "agent", "The same customer's earlier conversations"
    ),
    Route("GET", H + "/audit", views.audit, "agent", "Every state change of the handoff"),
    Route(
        "POST",
        H + "/claim",
        views.claim,
        "agent",
        "Claim this handoff (409 if taken)",
        schemas.EMPTY,
    ),
    Route(
        "POST",
        H + "/messages",
        views.agent_say,
        "agent",
        "Write to the customer",
        schemas.AGENT_MESSAGE,
        created=True,
    ),
    Route(
        "POST", H + "/notes", views.add_note, "agent", "Internal note", schemas.NOTE, created=True
    ),
    Route("POST", H + "/resolve", views.resolve, "agent", "Resolved", schemas.EMPTY),
    Route(
        "POST",
        H + "/abandon",
        views.abandon,
        "agent",
        "The customer went away without a word",
        schemas.EMPTY,
    ),
    Route(
        "POST",
        H + "/return",
        views.return_to_bot,
        "agent",
        "Hand the chat back to the bot with a summary",
        schemas.RETURN,
    ),
    Route(
        "POST",
        H + "/reassign",
        views.reassign,
        "agent",
        "Pass to another agent, or back to the queue",
        schemas.REASSIGN,
    ),
    Route("GET", "/canned-responses", views.canned, "agent", "Canned responses"),
    Route(
        "POST",
        "/canned-responses",
        views.add_canned,
        "agent",
        "Add a canned response",
        schemas.CANNED,
        created=True,
    ),
    Route(
        "GET",
        "/reports",
        views.reports,
        "agent",
        "First response, wait, handle, CSAT, containment",
        query={"days": {"type": "integer", "minimum": 1, "maximum": 365}},
    ),
    *STUDIO,
]


def guarded(route: Route) -> View:
    """The view behind its route's guard."""
    guard = GUARDS[route.auth]

    @functools.wraps(route.view)
    async def handler(request: web.Request) -> web.StreamResponse:
        await guard(request)
        return await route.view(request)

    return handler


async def public(request: web.Request) -> None:
    return None


async def agent_guard(request: web.Request) -> None:
    request[AGENT] = await request.app[ACCOUNTS].agent_for_token(bearer(request))


async def editor_guard(request: web.Request) -> None:
    token = bearer(request)
    request[AGENT] = await request.app[ACCOUNTS].agent_for_token(token, STUDIO_ROLES)


async def customer_guard(request: web.Request) -> None:
    conversation_id = await request.app[STORE].conversation_for_token(bearer(request))
    if conversation_id is None:
        raise Unauthorized("invalid_token", "This session token is not valid.")
    if conversation_id != request.match_info["conversation_id"]:
        raise Forbidden("not_your_conversation", "This token belongs to another conversation.")
    request[CONVERSATION] = conversation_id


async def service_guard(request: web.Request) -> None:
    expected = request.app[SETTINGS].service_token
    if not expected:
        raise Unauthorized(
            "service_token_unset", "HANDOFF_SERVICE_TOKEN is not set on the service."
        )
    if not same_secret(bearer(request), expected):
        raise Unauthorized("invalid_token", "Wrong service token.")


GUARDS = {
    "public": public,
    "agent": agent_guard,
    "editor": editor_guard,
    "customer": customer_guard,
    "service": service_guard,
}


def add_routes(app: web.Application) -> None:
    for route in ROUTES:
        path = re.sub(r"\{(\w+)\}", lambda m: f"{{{m[1]}:{ROUTER_PATTERNS[m[1]]}}}", route.path)
        app.router.add_route(route.method, path, guarded(route))
    app.router.add_get("/openapi.json", openapi_view)


async def openapi_view(request: web.Request) -> web.Response:
    return web.json_response(openapi())


ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "current": {
                    "type": "object",
                    "description": "A stale studio edit (409 `stale_edit`): the FAQ or "
                    "article as it is now, which the edit was not based on",
                },
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}
SECURITY = {
    "agent": "agentToken",
    "editor": "agentToken",
    "customer": "customerToken",
    "service": "serviceToken",
}


def refusal(description: str) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {"description": description, "content": content}


# How a route that takes a body refuses a bad one, besides what its guard and view refuse.
BODY_REFUSALS = {
    "400": refusal("The body is not JSON (`invalid_json`) or not what its schema asks for"),
    "413": refusal(
        "The body is as large as the service's limit or larger (`payload_too_large`; "
        "HANDOFF_MAX_BODY_BYTES, 64 KiB by default)"
    ),
    "415": refusal(
        "A body not labelled `application/json`: a form, plain text, no Content-Type "
        "(`unsupported_media_type`)"
    ),
}


def operation(route: Route) -> dict[str, Any]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMS[name]}
        for name in re.findall(r"\{(\w+)\}", route.path)
    ] + [{"name": n, "in": "query", "required": False, "schema": s} for n, s in route.query.items()]
    ok = "201" if route.created else "202" if route.accepted else "200"
    spec: dict[str, Any] = {
        "operationId": route.view.__name__,
        "summary": route.summary,
        "tags": [route.auth],
        "parameters": params,
        "responses": {
            ok: {"description": "Done", "content": {route.answers: {}}},
            "default": refusal("An error, always in this envelope"),
        },
    }
    if route.auth in SECURITY:
        spec["security"] = [{SECURITY[route.auth]: []}]
    if route.body is not None:
        spec["requestBody"] = {
            "description": "JSON only; no body at all counts as `{}`",
            "required": bool(route.body.get("required")),
            "content": {"application/json": {"schema": route.body}},
        }
        spec["responses"].update(BODY_REFUSALS)
        if route.max_body is not None:
            spec["responses"]["413"] = refusal(
                f"The body is {route.max_body} bytes or larger (`payload_too_large`)"
            )
    return spec


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.0 document for every route above."""
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route)
    bearer_scheme = {"type": "http", "scheme": "bearer"}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Larkspur handoff service",
            "version": "1",
            "description": "Escalated conversations, the agents' queue, and the customer's side.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {name: bearer_scheme for name in SECURITY.values()},
        },
    }
