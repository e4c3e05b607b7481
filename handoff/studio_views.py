"""The studio's HTTP views: the inbox, labels, checks, publish and roll back.

Every route here is for editors and leads (``routes``' ``editor`` guard); the signed-in
account's row is in the request as ``AGENT``.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.engine import Row

from handoff import schemas, studio
from handoff.checks import CHECKS
from handoff.db.accounts import agent_dict
from handoff.state import AGENT, EDITING
from handoff.views import body, int_query


def editor(request: web.Request) -> Row:
    row: Row = request[AGENT]
    return row


def path_id(request: web.Request, name: str) -> int:
    return int(request.match_info[name])


async def me(request: web.Request) -> web.Response:
    signed_in = editor(request)
    studio.load_encoder(request.app)  # the page asks this first; its inbox comes next
    return web.json_response(agent_dict(signed_in))


async def inbox(request: web.Request) -> web.Response:
    limit = int_query(request, "limit", 50, 1, 500)
    members = int_query(request, "members", studio.SHOWN_MEMBERS, 1, studio.MAX_MEMBERS)
    return web.json_response(await studio.inbox(request.app, limit, members))


async def miss(request: web.Request) -> web.Response:
    return web.json_response(await studio.miss(request.app, path_id(request, "miss_id")))


async def targets(request: web.Request) -> web.Response:
    return web.json_response({"targets": await studio.targets(request.app)})


async def label(request: web.Request) -> web.Response:
    data = await body(request, schemas.LABEL)
    return web.json_response(await studio.label(request.app, editor(request), data), status=201)


async def request_check(request: web.Request) -> web.Response:
    await body(request, schemas.EMPTY)
    check = await request.app[CHECKS].request(editor(request))
    return web.json_response(check, status=202)


async def checks(request: web.Request) -> web.Response:
    return web.json_response({"checks": await request.app[EDITING].recent_checks()})


async def check(request: web.Request) -> web.Response:
    return web.json_response(await request.app[EDITING].check(path_id(request, "check_id")))


async def publish(request: web.Request) -> web.Response:
    await body(request, schemas.EMPTY)
    check_id = path_id(request, "check_id")
    return web.json_response(await request.app[CHECKS].publish(check_id, editor(request)))


async def versions(request: web.Request) -> web.Response:
    return web.json_response({"versions": await request.app[EDITING].version_list()})


async def version(request: web.Request) -> web.Response:
    return web.json_response(await request.app[EDITING].version(path_id(request, "version_id")))


async def roll_back(request: web.Request) -> web.Response:
    await body(request, schemas.EMPTY)
    version_id = path_id(request, "version_id")
    return web.json_response(await request.app[CHECKS].roll_back(version_id, editor(request)))


async def changes(request: web.Request) -> web.Response:
    return web.json_response({"changes": await request.app[EDITING].content_changes()})
