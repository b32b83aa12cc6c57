import os
import tempfile

os.environ.setdefault("ENMIENDA_TESTING", "1")
# The Alegra request budget of this test run starts empty (worker processes started by tests inherit it).
if not os.environ.get("REDIS_URL"):
    os.environ.setdefault("ALEGRA_RATE_LIMIT_STORE", tempfile.mkdtemp(prefix="enmienda-ratelimit-"))
# Alegra's 429s counted by tests never reach a real deployment's or the demo's /metrics.
os.environ.setdefault("METRICS_COUNTER_STORE", tempfile.mkdtemp(prefix="enmienda-counters-"))
# Processes a test starts (commands, workers) never write anchors into the project's var/.
os.environ.setdefault("AUDIT_ANCHOR_DIR", tempfile.mkdtemp(prefix="enmienda-anchors-"))
# The filesystem broker of this run starts empty: tasks a demo or a bench left in var/ are not
# delivered to the workers tests start (nor are this run's left for them).
if not os.environ.get("CELERY_BROKER_URL"):
    os.environ.setdefault("CELERY_BROKER_DIR", tempfile.mkdtemp(prefix="enmienda-broker-"))
# Named here, after the variables above, and not in pyproject.toml: pytest-django loads the
# settings it is given there before this file is read, and the settings read these variables
# (without test workers, a run then mirrored with reading ahead on and the anchors in var/).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()
