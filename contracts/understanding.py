"""What the bot understood of one customer message, as the handoff channel reports it.

``POST /webhooks/handoff/turn`` (``bot/channels.py``) answers ``{"messages": [...],
"understanding": {...}}``; the handoff service stores the understanding on the customer's
message, and the studio's inbox is built from it (``handoff/studio.py``). The keys:

- ``intent``: the final intent, ``nlu_fallback`` when the bot was unsure;
- ``ranking``: the classifier's top guesses before any fallback, ``[[name, confidence]]``,
  FAQ guesses named by their answer (``faq/shipping_cost``);
- ``answer``: what the bot answered with: ``{"kind": "faq", "key": ...}``,
  ``{"kind": "article", "slug": ...}`` or None;
- ``faq_withheld``: the FAQ answer was too unsure and the help articles were searched;
- ``article_found``: the help-article search ran and found (True) or missed (False);
- ``familiarity``: how like its training phrases the top guess is, the mean cosine
  similarity to its three closest (``bot/familiarity.py``), or None when not scored;
- ``model``: the id of the model that answered.
"""

from __future__ import annotations

TURN_PATH = "/webhooks/handoff/turn"
TOP_GUESSES = 3
FALLBACK_INTENT = "nlu_fallback"
FAQ_INTENT = "faq"
ARTICLE_LINK_PREFIX = "https://larkspur-outdoor.example/help/"
