import os

from django.core.wsgi import get_wsgi_application

from config.startup import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
# Under gunicorn --preload this runs once in the master, before the fork, so the
# workers also share the frozen objects' memory pages instead of copying them as
# the collector touches them.
freeze_startup_objects(load_urlconf=True)
