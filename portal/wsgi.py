import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

from portal import memory  # noqa: E402  (after the application: what it loaded is what is frozen)

memory.settle()
