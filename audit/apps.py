from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _schema_is_current(migrated_apps) -> bool:
    """The tables as migrated match the models this code uses (not a migration backwards)."""
    from . import versions
    from .models import AuditEntry

    for model in (AuditEntry, *versions.history_models().values()):
        try:
            state = migrated_apps.get_model(model._meta.app_label, model._meta.object_name)
        except LookupError:
            return False
        if {f.attname for f in state._meta.concrete_fields} != {f.attname for f in model._meta.concrete_fields}:
            return False
    return True


def record_versions_without_entries(sender, apps=None, verbosity=1, **kwargs) -> None:
    """After `migrate`: the layouts of the version tables as they now are (so appends never wait
    on another writer's new layout), and entries for the versions a data migration wrote (no
    signal there)."""
    from . import versions
    from .recorder import history_backfill

    versions.layouts_forget()  # a flush ends with this signal too, its tables emptied
    if apps is not None and not _schema_is_current(apps):
        return
    versions.layouts_store(versions.history_models().values())
    written = history_backfill()
    if written and verbosity:
        print(f"  {written} audit entries written for versions recorded by migrations")


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        # simple-history's own signal is the one hook the house style allows: every
        # historical row of an audited model becomes an entry of the company's chain.
        from simple_history.signals import post_create_historical_record

        from invoices import hooks
        from portal import events

        from . import recorder

        events.register({"session.login": _("signed in"), "session.login_failed": _("wrong user name or password"),
                         "session.locked_out": _("refused: locked out after repeated failures")})
        post_create_historical_record.connect(recorder.history_row_recorded, dispatch_uid="audit-entries")
        # Bulk creates (the first mirror of many invoices) send no signal: the mirror says so here.
        hooks.on_bulk_history(recorder.record_bulk_history)
        hooks.on_versions_written(recorder.record_versions)
        post_migrate.connect(record_versions_without_entries, sender=self, dispatch_uid="audit-backfill")
