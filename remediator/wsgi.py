"""WSGI entry point for gunicorn."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from remediator.core.database_timeouts import postgres_statement_timeout

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remediator.settings")
application = get_wsgi_application()

# A web request's statements get the short timeout (settings give every process the
# worker's long one); no connection has been opened yet, each reads OPTIONS when it opens.
if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    postgres_statement_timeout(settings.DATABASES["default"], settings.DATABASE_STATEMENT_TIMEOUT)
