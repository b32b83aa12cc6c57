from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Enmienda"

    def ready(self) -> None:
        # Notifications send their task by name; the task must be known in every process.
        from . import tasks  # noqa: F401
