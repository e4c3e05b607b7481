"""Two of Rasa 3.6's hot spots made cheap, with the same results (``install`` in the Rasa
process, before it serves; ``tools/rasa_server.py`` does).

- **Checking the action server's answer.** ``RemoteAction._validate_action_result`` calls
  ``jsonschema.validate``, which first checks the (constant) response schema against
  JSON Schema's metaschema, on every custom action and every form turn: nearly all of
  the validation's cost, and the largest single share of Rasa's time per turn profiled
  here (``make bench-turns ARGS=--profile``). A validator made once, from the schema
  checked once, gives the same verdict and the same error.
- **Reading a tracker.** ``Event.resolve_by_type`` walks every subclass of ``Event``
  (``inspect.isabstract`` on each) for each event it deserialises: every event of a
  conversation, each time its tracker is read from the tracker store, which is twice a
  turn. A table by type name finds the same class (the first in the walk's order, as
  the walk does); a name not in it rebuilds it once (a subclass imported since), then
  defers to Rasa's own lookup (its "topic" and default cases, and its error).
"""

from __future__ import annotations

import functools
from typing import Any

_installed = False
# Rasa's own functions, kept by ``install``: the lookup falls back on one, tests compare.
rasa_validate_action_result: Any = None
rasa_resolve_by_type: Any = None


def install() -> None:
    """Put both in place (once; installing again changes nothing)."""
    global _installed, rasa_validate_action_result, rasa_resolve_by_type
    if _installed:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    rasa_validate_action_result = RemoteAction._validate_action_result
    rasa_resolve_by_type = Event.resolve_by_type
    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(resolve_by_type)
    _installed = True


@functools.lru_cache(maxsize=1)
def _response_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with a validator made once."""
    from jsonschema import exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    error = exceptions.best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        "For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


_by_name: dict[str, type] = {}


def _table() -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    _by_name.clear()
    for cls in all_subclasses(Event):
        _by_name.setdefault(cls.type_name, cls)  # the first in the walk wins, as in Rasa's


def resolve_by_type(type_name: str, default: type | None = None) -> type | None:
    """``Event.resolve_by_type`` from a table by type name."""
    found = _by_name.get(type_name)
    if found is None:
        _table()
        found = _by_name.get(type_name)
    if found is not None:
        return found
    return rasa_resolve_by_type(type_name, default)  # None, the default, or Rasa's error
