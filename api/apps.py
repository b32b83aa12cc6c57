from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from audit import hooks

        from . import outbound

        # Every recorded event the subscriptions care about becomes an outbox row, in its transaction.
        hooks.on_entries_appended(outbound.entries_recorded)
        # The outbox sends its task by name; the task must be known in every process (web,
        # worker, commands), not only where the worker's autodiscovery ran.
        from . import tasks  # noqa: F401
