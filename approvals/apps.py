from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"

    def ready(self) -> None:
        # The push outbox sends its task by name; the task must be known in every process
        # (web, worker, commands), not only where the worker's autodiscovery ran.
        from . import tasks  # noqa: F401
