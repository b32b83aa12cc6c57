from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "invoices"

    def ready(self) -> None:
        from portal import hooks as portal_hooks

        from . import home

        portal_hooks.on_home_panels(home.panels)
        from portal import events

        from . import events as mirror_events

        events.register(mirror_events.MESSAGES)
