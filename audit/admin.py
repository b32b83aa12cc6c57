from django.contrib import admin

from .models import AuditEntry, AuditVerification


class ReadOnlyAdmin(admin.ModelAdmin):
    """For looking only: the audit log is written by the application and never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "company", "at", "actor", "on_behalf_of", "action", "invoice_id", "change_request_id"]
    list_filter = ["action", "company"]
    list_select_related = ["company", "actor"]
    show_full_result_count = False
    actions = None


@admin.register(AuditVerification)
class AuditVerificationAdmin(ReadOnlyAdmin):
    list_display = ["chain", "at", "ok", "checked", "broken_seq", "problem"]
    actions = None
