from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FindingsConfig(AppConfig):
    name = "findings"
    verbose_name = _("Findings")

    def ready(self) -> None:
        from portal import hooks as portal_hooks

        from . import home

        portal_hooks.on_home_panels(home.panels)
        # The mirror tells us which invoices changed once their transaction commits; the scan of
        # those invoices runs in a worker (inline where Celery runs eagerly, as in tests).
        from invoices import hooks
        from portal import events

        from . import receivers

        events.register({
            "finding.created": _("raised by a scan"), "finding.updated": _("updated by a scan"),
            "finding.reopened": _("reopened: the invoice shows the problem again"),
            "finding.resolved": lambda params: str({
                "void": _("resolved: the invoice is void"),
                "deleted": _("resolved: the invoice was deleted in Alegra"),
            }.get(params.get("why"), _("resolved: the invoice no longer shows the problem"))),
            "finding.dismissed": _("dismissed: %(reason)s"),
            "finding.correction": _("correction request #%(request)s drafted from it"),
        })
        hooks.on_invoices_changed(receivers.invoices_changed)
        hooks.on_catalogue_changed(receivers.catalogue_changed)
        hooks.on_list_badges(receivers.list_badges)
