from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Contact, Invoice, Item, SyncRun, Tax


class ReadOnlyMirrorAdmin(SimpleHistoryAdmin):
    """The mirror is written by sync only; the admin is for looking."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyMirrorAdmin):
    list_display = ["number", "company", "client_name", "date", "due_date", "status", "total", "balance", "is_stamped"]
    list_filter = ["status", "is_stamped", "company"]
    search_fields = ["number", "client_name"]
    date_hierarchy = "date"
    list_select_related = ["company"]


@admin.register(Contact)
class ContactAdmin(ReadOnlyMirrorAdmin):
    list_display = ["name", "identification", "email", "company"]
    search_fields = ["name", "identification"]


@admin.register(Item)
class ItemAdmin(ReadOnlyMirrorAdmin):
    list_display = ["name", "reference", "price", "company"]


@admin.register(Tax)
class TaxAdmin(ReadOnlyMirrorAdmin):
    list_display = ["name", "percentage", "tax_type", "company"]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["company", "kind", "state", "started_at", "finished_at", "invoices_seen", "errors"]
    list_filter = ["state", "kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
