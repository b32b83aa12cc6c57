from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FindingsConfig(AppConfig):
    name = "findings"
    verbose_name = _("Findings")

    def ready(self) -> None:
        from portal import hooks as portal_hooks
        from portal import notifications

        from . import home, notify

        portal_hooks.on_home_panels(home.panels)
        notifications.register(notify.KINDS)
        # The mirror tells us which invoices changed once their transaction commits; the scan of
        # those invoices runs in a worker (inline where Celery runs eagerly, as in tests).
        from invoices import hooks
        from portal import events

        from . import receivers
        from .learning.presenters import fix_rule_edited

        events.register({
            "finding.created": _("raised by a scan"), "finding.updated": _("updated by a scan"),
            "finding.reopened": _("reopened: the invoice shows the problem again"),
            "finding.resolved": lambda params: str({
                "void": _("resolved: the invoice is void"),
                "deleted": _("resolved: the invoice was deleted in Alegra"),
            }.get(params.get("why"), _("resolved: the invoice no longer shows the problem"))),
            "finding.dismissed": _("dismissed: %(reason)s"),
            "finding.correction": _("correction request #%(request)s drafted from it"),
            "finding.correction_ended": lambda params: str({
                "rejected": _("open again: its correction request #%(request)s was rejected"),
                "cancelled": _("open again: its correction request #%(request)s was cancelled"),
            }.get(params.get("state"), _("open again: its correction request #%(request)s ended"))) % params,
            "finding.confirmed": _("confirmed: the finding is right"),
            "finding.auto_fixed": _("correction request #%(request)s made and approved by the rule “%(rule)s”"),
            "finding.silenced": _("silenced by learned exception #%(exception)s"),
            "finding.silenced_at_birth": _("raised by a scan and silenced at once by a learned exception"),
            "finding.returned": _("back: learned exception #%(exception)s no longer applies"),
            "learning.learned": _("learned from the dismissal of finding #%(finding)s"),
            "learning.revoked": _("revoked: %(reason)s"),
            "learning.threshold": _("findings below a confidence of %(threshold)s hidden"),
            "learning.fix_rule_edited": fix_rule_edited,
        })
        from django.db.models.signals import post_save

        from .requests import ChangeRequest

        post_save.connect(receivers.request_saved, sender=ChangeRequest, dispatch_uid="findings.request_saved")
        hooks.on_invoices_changed(receivers.invoices_changed)
        hooks.on_catalogue_changed(receivers.catalogue_changed)
        hooks.on_list_badges(receivers.list_badges)
        from .learning import hints
        from .requests import on_inbox_notes

        on_inbox_notes(hints.inbox_notes)
