"""The web process freezes what start-up made, views included, out of the
garbage collector's sight (config/startup.py)."""

from __future__ import annotations

import json

from tests.support.processes import run_python

LOADS_THE_WSGI_APP = """
import gc, json, sys
before = gc.get_freeze_count()
import config.wsgi
print(json.dumps({
    "before": before,
    "frozen": gc.get_freeze_count(),
    "views_loaded": "outreach.views" in sys.modules and "links.views" in sys.modules,
}))
"""


def test_loading_the_wsgi_application_freezes_startup_objects_with_the_views():
    done = run_python("-c", LOADS_THE_WSGI_APP)
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["before"] == 0
    # Django and the apps alone are well over 100,000 objects.
    assert state["frozen"] > 100_000
    # The views were imported before the freeze, not on the first request.
    assert state["views_loaded"] is True
