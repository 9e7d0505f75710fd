"""What a long-lived process does once it has loaded everything it will keep."""

from __future__ import annotations

import gc


def freeze_startup_objects(*, load_urlconf: bool = False) -> None:
    """Move what start-up made (Django, the apps, their modules: hundreds of
    thousands of objects that live as long as the process) out of the garbage
    collector's sight. Otherwise every full collection walks them all again: 6 %
    of a verifier worker's CPU under load, and some 150-200 ms added to the one
    request in thirty or forty of the 10x prospects list that triggered one.

    ``load_urlconf`` imports the URLconf first, and with it every view, form and
    template tag module, which a web process would otherwise import on its first
    request, after the freeze.
    """
    if load_urlconf:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - importing the views is the point
    gc.collect()
    gc.freeze()
