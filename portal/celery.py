import os
import warnings

from celery import Celery, signals
from celery.exceptions import SecurityWarning

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

if os.environ.get("ENMIENDA_DEMO_WORKER") == "1":
    # The demo's worker (run_portal) often runs as a container's root: its console is for the demo.
    warnings.filterwarnings("ignore", category=SecurityWarning)

app = Celery("enmienda")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def _use_django_logging(**kwargs) -> None:
    """Workers and the scheduler log through settings.LOGGING (JSON, redacted), like the web."""


# Tokens to restore the context a task ran in (a web request, when tasks run eagerly).
_task_contexts: dict = {}


@signals.task_prerun.connect
def _task_log_context(task_id=None, task=None, **kwargs) -> None:
    from .logging import log_context

    delivery = getattr(task.request, "delivery_info", None) or {}
    context = {**(log_context.get() or {}), "task_id": task_id, "task": task.name,
               "queue": delivery.get("routing_key")}
    _task_contexts[task_id] = log_context.set(context)


@signals.task_postrun.connect
def _task_log_context_clear(task_id=None, **kwargs) -> None:
    from .logging import log_context

    token = _task_contexts.pop(task_id, None)
    if token is not None:
        try:
            log_context.reset(token)
        except ValueError:  # set in another context (a thread pool): nothing of ours to restore
            log_context.set(None)


@signals.worker_init.connect
@signals.worker_process_init.connect
def _settle_memory(**kwargs) -> None:
    """A worker's loaded code frozen out of the collector's scans, as the web's (portal.wsgi)."""
    from .memory import settle

    settle()
