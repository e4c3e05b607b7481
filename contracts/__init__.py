"""Names the bot, the action server and the handoff service share, owned in one place.

A leaf package: it imports nothing of the project, and ``bot``, ``actions`` and
``handoff`` all import it, so a renamed trigger or a changed order-number format fails
loudly everywhere at once instead of silently getting a default somewhere.
"""
