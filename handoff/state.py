"""Typed keys for what the app and each request carry."""

from __future__ import annotations

from collections import Counter

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.db import Store
from handoff.db.accounts import Accounts
from handoff.db.editing import Editing
from handoff.hub import Hub, Relay
from handoff.limits import Limits
from handoff.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
STORE = web.AppKey("store", Store)
ACCOUNTS = web.AppKey("accounts", Accounts)
EDITING = web.AppKey("editing", Editing)
HTTP = web.AppKey("http", aiohttp.ClientSession)
LIMITS = web.AppKey("limits", Limits)
RESPONSES = web.AppKey("responses", Counter[str])
HUB = web.AppKey("hub", Hub)
RELAY = web.AppKey("relay", Relay)

# Set on the request by the route's guard (handoff.routes).
AGENT = "agent"  # the signed-in agent's row
CONVERSATION = "conversation"  # the customer's conversation id
