from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        # simple-history's own signal is the one hook the house style allows: every
        # historical row of an audited model becomes an entry of the company's chain.
        from simple_history.signals import post_create_historical_record

        from invoices import hooks

        from . import recorder

        post_create_historical_record.connect(recorder.history_row_recorded, dispatch_uid="audit-entries")
        # Bulk creates (the first mirror of many invoices) send no signal: the mirror says so here.
        hooks.on_bulk_history(recorder.record_bulk_history)
