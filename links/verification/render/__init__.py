"""Headless Chromium for pages that build their links in JavaScript (issue 16).

* ``engine``: ``Renderer``, one Chromium per process, driven from one thread of
  its own, a fresh context per page, every request the page makes answered by
  a caller-given fetch (the guarded fetcher) or refused.
* ``verify``: ``render_hook``, the second look ``verdict.verify`` takes at a page
  whose first reading found no link and that looks script-built
  (``links.verification.scripted``).

Nothing is imported here: Playwright loads only in processes that render.
"""
