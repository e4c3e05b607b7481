"""The editors' studio: customer messages the bot misunderstood, labelled into the content.

A leaf package over the content files (``data/``, ``tests/nlu/``): it imports nothing of
``handoff``, ``actions`` or ``bot`` (only ``contracts``, which all of them share), so the
handoff service can use it without the bot.

- ``studio.content``: what a message can be labelled as, and writing labelled messages
  into the Rasa training data and the held-out test set, keeping the files' comments;
- ``studio.clusters``: grouping similar messages, so an editor labels a topic at once;
- ``studio.faqs`` and ``studio.articles``: FAQs and help articles as editors edit them,
  each edit checked against the version it was based on;
- ``studio.lint``: the content checks, in the studio's page and in ``make validate``;
- ``studio.sheet``: FAQs from a spreadsheet (a dry run, then all at once) and back;
- ``studio.files``: the round trip through the files that keeps their comments and order.
"""
