from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "invoices"

    def ready(self) -> None:
        from portal import events

        from . import events as mirror_events

        events.register(mirror_events.MESSAGES)
