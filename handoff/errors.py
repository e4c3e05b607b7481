"""One JSON error envelope for every failure: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "unavailable",
}


class ApiError(Exception):
    """A failure the client should hear about, with its HTTP status; ``detail`` adds keys
    to the envelope's ``error``, e.g. ``current``: the content a stale edit was refused for."""

    def __init__(
        self, status: int, code: str, message: str, detail: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.detail = detail or {}


class NotFound(ApiError):
    def __init__(self, what: str) -> None:
        super().__init__(404, "not_found", f"No such {what}.")


class Conflict(ApiError):
    """The request clashes with the current state: already claimed, at capacity …"""

    def __init__(self, code: str, message: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(409, code, message, detail)


class Forbidden(ApiError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(403, code, message)


class Unauthorized(ApiError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(401, code, message)


class BadRequest(ApiError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(400, code, message)


class UnsupportedMediaType(ApiError):
    def __init__(self) -> None:
        super().__init__(415, "unsupported_media_type", "Send the body as application/json.")


class TooManyRequests(ApiError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(429, code, message)


def envelope(
    status: int, code: str, message: str, detail: dict[str, Any] | None = None
) -> web.Response:
    error = {**(detail or {}), "code": code, "message": message}
    return web.json_response({"error": error}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map every failure to the envelope; an unexpected one leaks nothing but a 500."""
    try:
        return await handler(request)
    except ApiError as error:
        return envelope(error.status, error.code, error.message, error.detail)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return envelope(error.status, CODES.get(error.status, "http_error"), said(request, error))
    except Exception:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return envelope(500, "internal", "Something went wrong on our side.")


def said(request: web.Request, error: web.HTTPException) -> str:
    """What to tell the client about one of aiohttp's own refusals."""
    if error.status == 413:  # the route's own limit, where it has one (views.body)
        limit = re.search(r"Maximum request body size (\d+)", error.text or "")
        return f"The body must be under {limit[1] if limit else request.client_max_size} bytes."
    return error.reason
