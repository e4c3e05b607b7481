"""The editors' studio: customer messages the bot misunderstood, labelled into the content.

A leaf package over the content files (``data/``, ``tests/nlu/``): it imports nothing of
``handoff``, ``actions`` or ``bot``, so the handoff service can use it without the bot.

- ``studio.content``: what a message can be labelled as, and writing labelled messages
  into the Rasa training data and the held-out test set, keeping the files' comments;
- ``studio.clusters``: grouping similar messages, so an editor labels a topic at once.
"""
