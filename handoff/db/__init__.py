"""The data layer, one room per subject, each raising domain errors (``NotFound``,
``Conflict``) that the views map to HTTP:

- ``engine``: the engine and the migrations; ``tables``: the schema;
- ``unit``: read and write transactions, the clock, post-commit hooks, the audit log;
- ``conversations``: customers, sessions and messages;
- ``queue``: the one waiting order, places in line and expected waits;
- ``handoffs``: a handoff's life, from queued to closed;
- ``read_models``: what the console reads (a handoff at a glance, history);
- ``accounts``: agents, their tokens, canned responses and CSAT.

:class:`Store` is the rooms over one engine. Each room builds on the ones it needs
(``Unit`` ← ``Conversations`` ← ``Queue`` ← ``Handoffs`` ← ``ReadModels``).
"""

from __future__ import annotations

from handoff.db.read_models import ReadModels


class Store(ReadModels):
    """Every query and state change of the service, over one engine."""
