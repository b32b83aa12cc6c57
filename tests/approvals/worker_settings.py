"""Settings of a Celery worker started by a test: the project's, on the test's database.

The worker is a separate process, so it cannot see pytest-django's renamed test database
unless told; the test passes the name it uses. Retries are quick so a test stays short.
"""

import os

from portal.settings import *  # noqa: F401,F403
from portal.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["ENMIENDA_WORKER_DB_NAME"]
PUSH_RETRY_BASE_SECONDS = float(os.environ.get("PUSH_RETRY_BASE_SECONDS", "0.2"))
PUSH_RETRY_MAX_SECONDS = float(os.environ.get("PUSH_RETRY_MAX_SECONDS", "2"))
