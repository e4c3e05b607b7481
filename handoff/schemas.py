"""Request bodies as JSON Schema: the views validate with them, the OpenAPI document shows them."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft7Validator

from contracts.triggers import TRIGGERS
from handoff.errors import BadRequest

Schema = dict[str, Any]


def obj(required: list[str], **properties: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:  # OpenAPI 3.0 forbids an empty "required" list
        schema["required"] = required
    return schema


def text(max_length: int, min_length: int = 1) -> Schema:
    return {"type": "string", "minLength": min_length, "maxLength": max_length}


MESSAGE_TEXT = {**text(5000), "pattern": r"\S"}
TURN = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "maxLength": 5000},
        "intent": {"type": "string", "maxLength": 100},
        "confidence": {"type": "number"},
        "sentiment": {"type": "number"},
        "level": {"type": "string", "maxLength": 40},
    },
}
LINE = {
    "type": "object",
    "properties": {
        "speaker": {"type": "string", "enum": ["customer", "bot"]},
        "text": {"type": "string", "maxLength": 5000},
        "time": {"type": "string", "maxLength": 40},
    },
    "required": ["speaker", "text"],
}
SCALAR = {"anyOf": [{"type": "string"}, {"type": "number"}]}
HANDOFF = {
    "type": "object",
    "properties": {
        "idempotency_key": text(200),
        "conversation_id": {**text(64), "pattern": r"^[A-Za-z0-9_.:@-]+$"},
        "reason": {
            "type": "object",
            "properties": {
                "trigger": {"type": "string", "enum": list(TRIGGERS)},
                "value": SCALAR,
                "threshold": SCALAR,
                "turn": {"type": "integer", "minimum": 0},
            },
            "required": ["trigger"],
        },
        "summary": {"type": "string", "maxLength": 5000},
        "score_trail": {"type": "array", "items": TURN, "maxItems": 500},
        "transcript": {"type": "array", "items": LINE, "maxItems": 500},
        "created_at": {"type": "string", "maxLength": 40},
    },
    "required": ["idempotency_key", "conversation_id", "reason"],
}
SESSION = obj(
    [],
    customer_ref=text(200),
    customer_ref_signature={**text(64, 64), "pattern": "^[0-9a-fA-F]{64}$"},
)
LOGIN = obj(["name", "password"], name=text(100), password=text(200))
AVAILABILITY = obj(["available"], available={"type": "boolean"})
CUSTOMER_MESSAGE = obj(["text"], text=MESSAGE_TEXT, client_id=text(64))
AGENT_MESSAGE = obj(["text"], text=MESSAGE_TEXT)
NOTE = obj(["text"], text=MESSAGE_TEXT)
OFFLINE = obj(
    ["email"],
    email={**text(320, 3), "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$"},
)
CSAT = obj(
    ["rating"],
    rating={"type": "integer", "minimum": 1, "maximum": 5},
    comment=text(2000, 0),
)
RETURN = obj([], summary=text(1000))
REASSIGN = obj([], agent_id={"type": "integer", "minimum": 1, "maximum": 2**31 - 1})
CANNED = obj(
    ["shortcut", "text"],
    shortcut={**text(40), "pattern": r"^[a-z0-9_-]+$"},
    text=MESSAGE_TEXT,
)
EMPTY = obj([])
FEEDBACK = obj(
    ["seq", "helpful"],
    seq={"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    helpful={"type": "boolean"},
)
# The studio. Names as Rasa spells them: an intent, or faq/<key> for an FAQ's answer.
TARGET = {**text(120), "pattern": r"^[a-z][a-z0-9_]*(/[a-z0-9_]+)?$"}
NEW_FAQ = obj(
    ["key", "answer"],
    key={**text(41, 3), "pattern": r"^[a-z][a-z0-9_]{2,40}$"},
    answer={**text(1000), "pattern": r"\S"},
    article={**text(120), "pattern": r"^[a-z0-9][a-z0-9-]*$"},
)
LABEL = obj(
    ["miss_ids", "action"],
    miss_ids={
        "type": "array",
        "minItems": 1,
        "maxItems": 1000,
        "items": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    },
    action={"type": "string", "enum": ["intent", "faq", "new_faq", "out_of_scope", "ignore"]},
    target=TARGET,
    faq=NEW_FAQ,
)

# The studio's FAQs and articles. An edit names the version it was based on.
FAQ_KEY = {**text(41, 3), "pattern": r"^[a-z][a-z0-9_]{2,40}$"}
VERSION = {"type": "string", "pattern": r"^[0-9a-f]{12}$"}
ANSWER = {**text(1000), "pattern": r"\S"}
ARTICLE_LINK = {**text(80, 0), "pattern": r"^([a-z0-9][a-z0-9-]*)?$"}  # "": none
PHRASES = {"type": "array", "maxItems": 500, "items": text(500)}
FAQ_DRAFT = obj(
    ["key", "phrases"],
    key=FAQ_KEY,
    answer={"type": "string", "maxLength": 1000},
    article=ARTICLE_LINK,
    phrases=PHRASES,
)
FAQ_CREATE = obj(
    ["key", "answer", "phrases"], key=FAQ_KEY, answer=ANSWER, article=ARTICLE_LINK, phrases=PHRASES
)
FAQ_SAVE = obj(
    ["version", "answer", "phrases"],
    version=VERSION,
    answer=ANSWER,
    article=ARTICLE_LINK,
    phrases=PHRASES,
)
FAQ_RENAME = obj(["version", "key"], version=VERSION, key=FAQ_KEY)
FAQ_RETIRE = obj(["version", "destination"], version=VERSION, destination=TARGET)
SHEET_BYTES = 2_000_000  # studio.sheet.MAX_BYTES
SHEET = obj(
    ["filename", "content"],
    filename={**text(200), "pattern": r"\.([cC][sS][vV]|[xX][lL][sS][xX])$"},
    content={"type": "string", "maxLength": (SHEET_BYTES + 2) // 3 * 4},  # base64
    apply={"type": "boolean"},
    version=VERSION,
)
SLUG = {**text(80), "pattern": r"^[a-z0-9][a-z0-9-]*$"}
ARTICLE_FIELDS = {
    "title": text(120),
    "slug": SLUG,
    "tags": {"type": "array", "maxItems": 12, "items": text(40)},
    "body": text(20_000),
}
ARTICLE_CREATE = obj(["title", "slug", "tags", "body"], **ARTICLE_FIELDS)
ARTICLE_SAVE = obj(["version", "title", "slug", "tags", "body"], version=VERSION, **ARTICLE_FIELDS)


# Far deeper than any body or frame the service takes; deeper is an attack on recursion
# (the parser's, the validator's, the error message's).
MAX_DEPTH = 32


class TooDeep(ValueError):
    """JSON nested deeper than ``MAX_DEPTH``."""


def loads(raw: str | bytes) -> Any:
    """Parsed JSON no deeper than ``MAX_DEPTH``; ValueError (or TooDeep) if it is not."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise TooDeep(f"nested deeper than {MAX_DEPTH} levels") from None
    if depth(value) > MAX_DEPTH:
        raise TooDeep(f"nested deeper than {MAX_DEPTH} levels")
    return value


def depth(value: Any) -> int:
    """How deep arrays and objects nest in ``value`` (a scalar is 0), without recursing."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def validate(schema: Schema, body: Any) -> dict[str, Any]:
    """The body if it fits the schema, else a 400 naming the first problem."""
    error = next(iter(sorted(Draft7Validator(schema).iter_errors(body), key=str)), None)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "body"
        raise BadRequest("invalid_body", f"{where}: {error.message}"[:300])
    if not isinstance(body, dict):  # every request schema is an object; this says so to mypy
        raise BadRequest("invalid_body", "body: must be a JSON object")
    return body
