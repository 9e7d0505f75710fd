"""The verifier: pure Python, no Django. Fetch a page safely, parse it, judge a link.

* ``urls``: ``normalize_url``, ``url_key``, ``domain_of`` (the site: registrable domain)
  and ``host_of`` (the host); ``Target`` and ``find_links``.
* ``fetch``: ``Fetcher`` and ``FetchConfig``, the one way the project reaches the internet.
* ``parse``: ``parse_html`` and the page-level robots rules.
* ``verdict``: ``verify`` and ``verify_many``, returning ``VerificationResult``.
* ``pool``: ``host_fair``, the one thread pool (site by site in turn, each piece of
  work in a slot of a ``HostLimiter``), and ``LocalHostLimiter``.

Nothing is imported here, so that the models' use of ``urls`` does not load the
HTTP stack and lxml into every Django process.
"""
