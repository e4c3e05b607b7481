"""``bot.speedups`` answers as Rasa's own functions do, on every case they have."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

from bot import speedups

speedups.install()
ACTION = RemoteAction("action_check_order", None)


def test_every_event_type_resolves_to_rasas_class() -> None:
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in names:
        assert speedups.resolve_by_type(name) is speedups.rasa_resolve_by_type(name)
    assert Event.resolve_by_type("user") is speedups.resolve_by_type("user")  # installed


def test_unknown_event_names_end_as_in_rasa() -> None:
    assert speedups.resolve_by_type("topic") is None
    assert speedups.resolve_by_type("no such event", default=Event) is Event
    with pytest.raises(ValueError, match="Unknown event name 'no such event'"):
        speedups.resolve_by_type("no such event")


GOOD: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "order_number", "value": "LS-117342"}],
        "responses": [{"text": "Found it", "buttons": [{"title": "Yes", "payload": "/affirm"}]}],
    },
]
BAD: list[dict[str, Any]] = [
    {"events": [{"name": "order_number"}], "responses": []},  # an event without its type
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["a bare string, not an object"]},
]


@pytest.mark.parametrize("result", GOOD)
def test_a_sound_action_result_passes(result: dict[str, Any]) -> None:
    assert ACTION._validate_action_result(result) is True
    assert speedups.rasa_validate_action_result(ACTION, result) is True


@pytest.mark.parametrize("result", BAD)
def test_a_broken_action_result_fails_with_rasas_message(result: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as ours:
        ACTION._validate_action_result(result)
    with pytest.raises(ValidationError) as rasas:
        speedups.rasa_validate_action_result(ACTION, result)
    assert ours.value.message == rasas.value.message
    assert "Failed to validate Action server response" in ours.value.message
