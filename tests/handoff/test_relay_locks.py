"""The relay's per-conversation locks: one message at a time, forgotten when idle."""

from __future__ import annotations

import asyncio

from handoff.hub import Relay


async def test_messages_of_one_conversation_take_turns_in_order() -> None:
    relay, order = Relay(), []
    first_in = asyncio.Event()

    async def turn(name: str) -> None:
        async with relay.lock("c-1"):
            order.append(f"{name} in")
            first_in.set()
            await asyncio.sleep(0)
            order.append(f"{name} out")

    first = asyncio.create_task(turn("a"))
    await first_in.wait()
    await asyncio.gather(first, turn("b"), turn("c"))
    assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]


async def test_a_lock_is_forgotten_once_nobody_holds_or_awaits_it() -> None:
    relay = Relay()
    for n in range(100):
        async with relay.lock(f"c-{n}"):
            assert relay.locks_held() == 1
    assert relay.locks_held() == 0
