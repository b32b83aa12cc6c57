from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"

    def ready(self) -> None:
        from portal import hooks as portal_hooks

        from . import home

        portal_hooks.on_home_panels(home.panels)
        from portal import events, hooks

        from . import events as approval_events

        events.register(approval_events.MESSAGES)
        from .routing import policy_label

        events.register_params({"policy": policy_label})
        from portal import notifications

        from .notify import KINDS

        notifications.register(KINDS)

        # The push outbox sends its task by name; the task must be known in every process
        # (web, worker, commands), not only where the worker's autodiscovery ran.
        from . import tasks  # noqa: F401
        from .services.policies import policies_ensure_defaults

        # A company starts with the default routing policies, created by the system.
        hooks.on_company_created(lambda company: policies_ensure_defaults(company=company))
