"""The studio's HTTP views: the inbox, labels, FAQs and articles, checks, publish, roll back.

Every route here is for editors and leads (``routes``' ``editor`` guard); the signed-in
account's row is in the request as ``AGENT``.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.engine import Row

from handoff import schemas, studio, studio_content
from handoff.checks import CHECKS
from handoff.db.accounts import agent_dict
from handoff.state import AGENT, EDITING
from handoff.views import body, int_query, text_query


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


# --- FAQs and articles --------------------------------------------------------------

ARTICLE_BODY_BYTES = 256 * 1024  # 20,000 characters of text, escaped, fit
SHEET_BODY_BYTES = schemas.SHEET["properties"]["content"]["maxLength"] + 4096


def path_text(request: web.Request, name: str) -> str:
    return request.match_info[name]


async def faqs(request: web.Request) -> web.Response:
    query = text_query(request, "q", 200)
    return web.json_response(await studio_content.faqs(request.app, query))


async def faq(request: web.Request) -> web.Response:
    return web.json_response(await studio_content.faq(request.app, path_text(request, "key")))


async def check_faq(request: web.Request) -> web.Response:
    data = await body(request, schemas.FAQ_DRAFT)
    return web.json_response(await studio_content.check_faq(request.app, data))


async def create_faq(request: web.Request) -> web.Response:
    data = await body(request, schemas.FAQ_CREATE)
    created = await studio_content.create_faq(request.app, editor(request), data)
    return web.json_response(created, status=201)


async def save_faq(request: web.Request) -> web.Response:
    data = await body(request, schemas.FAQ_SAVE)
    key = path_text(request, "key")
    return web.json_response(await studio_content.save_faq(request.app, editor(request), key, data))


async def rename_faq(request: web.Request) -> web.Response:
    data = await body(request, schemas.FAQ_RENAME)
    key = path_text(request, "key")
    renamed = await studio_content.rename_faq(request.app, editor(request), key, data)
    return web.json_response(renamed)


async def retire_faq(request: web.Request) -> web.Response:
    data = await body(request, schemas.FAQ_RETIRE)
    key = path_text(request, "key")
    retired = await studio_content.retire_faq(request.app, editor(request), key, data)
    return web.json_response(retired)


async def import_faqs(request: web.Request) -> web.Response:
    data = await body(request, schemas.SHEET, SHEET_BODY_BYTES)
    return web.json_response(await studio_content.import_faqs(request.app, editor(request), data))


async def export_faqs(request: web.Request) -> web.Response:
    sheet = await studio_content.export_faqs(request.app)
    return web.Response(
        text=sheet,
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="larkspur-faqs.csv"'},
    )


async def content_checks(request: web.Request) -> web.Response:
    return web.json_response(await studio_content.content_checks(request.app))


async def articles(request: web.Request) -> web.Response:
    return web.json_response(await studio_content.articles(request.app))


async def article(request: web.Request) -> web.Response:
    slug = path_text(request, "slug")
    return web.json_response(await studio_content.article(request.app, slug))


async def preview_article(request: web.Request) -> web.Response:
    data = await body(request, schemas.ARTICLE_CREATE, ARTICLE_BODY_BYTES)
    return web.json_response(await studio_content.preview_article(request.app, data))


async def create_article(request: web.Request) -> web.Response:
    data = await body(request, schemas.ARTICLE_CREATE, ARTICLE_BODY_BYTES)
    created = await studio_content.create_article(request.app, editor(request), data)
    return web.json_response(created, status=201)


async def save_article(request: web.Request) -> web.Response:
    data = await body(request, schemas.ARTICLE_SAVE, ARTICLE_BODY_BYTES)
    slug = path_text(request, "slug")
    saved = await studio_content.save_article(request.app, editor(request), slug, data)
    return web.json_response(saved)
