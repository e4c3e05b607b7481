"""What a browser loads from the service: the widget script, the demo store page, the console.

Files live in ``handoff/static``; no build step. Pages get a strict Content-Security-Policy
(scripts and styles from this service only, no inline script), so text a customer or an
agent types can never run as code even if a bug let it into the page as HTML.

The widget may be embedded in a store on another origin: pages on
``HANDOFF_ALLOWED_ORIGINS`` may then call the customer's routes (CORS), as they may open
the customer's socket. The agents' routes never answer another origin.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from handoff.errors import Handler
from handoff.state import SETTINGS

STATIC = Path(__file__).resolve().parent / "static"
PAGES = {"/demo": "demo.html", "/console": "console.html", "/studio": "studio.html"}
CUSTOMER_ROUTES = re.compile(r"/sessions|/conversations/[A-Za-z0-9_.:@-]{1,64}(/[a-z]+)?")
PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def add_pages(app: web.Application) -> None:
    for path, name in PAGES.items():
        app.router.add_get(path, page(name))
    app.router.add_get("/widget.js", page("widget.js"))
    app.router.add_static("/static/", STATIC, follow_symlinks=False)


def page(name: str) -> Handler:
    async def serve(request: web.Request) -> web.StreamResponse:
        if not (STATIC / name).is_file():
            raise web.HTTPNotFound()
        headers = {"Content-Security-Policy": CSP, "Referrer-Policy": "no-referrer"}
        return web.FileResponse(STATIC / name, headers=headers if name.endswith(".html") else None)

    serve.__name__ = f"serve_{name.replace('.', '_')}"
    return serve


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No content-type sniffing on anything the service sends."""
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def embedding_origin(request: web.Request) -> str | None:
    """The request's Origin, if it is a store allowed to embed the widget."""
    origin = request.headers.get("Origin", "").rstrip("/")
    if origin and request.app[SETTINGS].embeds(origin):
        return origin
    return None


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An allowed store's pages may call the customer's routes (and see their errors)."""
    origin = embedding_origin(request) if CUSTOMER_ROUTES.fullmatch(request.path) else None
    if origin is None:
        return await handler(request)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response: web.StreamResponse = web.Response(status=204, headers=PREFLIGHT)
    else:
        response = await handler(request)
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    return response
