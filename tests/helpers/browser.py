"""What the browser tests share: where screenshots go, and axe-core's findings on a page."""

from __future__ import annotations

import os
from typing import Any

from playwright.sync_api import Page

from tools.serve import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# `make screenshots` points this at docs/screenshots; a plain test run leaves those alone.
SCREENSHOTS = ROOT / os.environ.get("SCREENSHOTS", "var/screenshots")


def axe_violations(page: Page, selector: str | None = None) -> list[dict[str, Any]]:
    """Serious and critical accessibility violations axe-core finds on the page."""
    page.evaluate(AXE.read_text())  # through DevTools, so the page's CSP does not block it
    context = f"document.querySelector({selector!r})" if selector else "document"
    results = page.evaluate(f"async () => await axe.run({context})")
    return [v for v in results["violations"] if v["impact"] in ("serious", "critical")]


# The width of the focused element's outline (through shadow roots): 0 means no visible focus.
FOCUS_RING = """() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  const style = getComputedStyle(el);
  return style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth);
}"""
