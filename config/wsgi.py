import os

from django.core.wsgi import get_wsgi_application

from config.startup import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
# Under gunicorn --preload this runs once in the master, before the fork: the
# workers' collectors then never write to the frozen objects, so more of the
# master's memory pages stay shared.
freeze_startup_objects(load_urlconf=True)
