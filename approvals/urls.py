from django.urls import path

from .views import contact, decisions, edit, policies, requests

app_name = "approvals"

C = "c/<int:company_id>/"
INVOICE = C + "invoices/<int:pk>/"
REQUEST = C + "requests/<int:pk>/"

urlpatterns = [
    # proposing: the editor, the credit-note composer (same URL), the contact update
    path(INVOICE + "edit/", edit.invoice_edit, name="invoice_edit"),
    path(INVOICE + "edit/recompute/", edit.invoice_edit_recompute, name="invoice_edit_recompute"),
    path(INVOICE + "edit/items/", edit.item_search, name="invoice_edit_items"),
    path(INVOICE + "edit/contacts/", edit.contact_search, name="invoice_edit_contacts"),
    path(INVOICE + "contact/", contact.invoice_contact_edit, name="invoice_contact_edit"),
    # requests as their author follows them
    path(INVOICE + "requests/", requests.invoice_requests, name="invoice_requests"),
    path(C + "requests/mine/", requests.my_requests, name="my_requests"),
    path(REQUEST, requests.request_detail, name="request_detail"),
    path(REQUEST + "submit/", requests.request_submit_view, name="request_submit"),
    path(REQUEST + "cancel/", requests.request_cancel_view, name="request_cancel"),
    path(REQUEST + "rebase/", requests.request_rebase_view, name="request_rebase"),
    path(REQUEST + "copy/", requests.request_copy_view, name="request_copy"),
    # deciding, pushing, conflicts
    path(C + "approvals/", decisions.approval_inbox, name="approval_inbox"),
    path(C + "approvals/counters/", decisions.approval_counters, name="approval_counters"),
    path(REQUEST + "diff/", decisions.approval_diff, name="approval_diff"),
    path(REQUEST + "decide/", decisions.request_decide, name="request_decide"),
    path(REQUEST + "panel/", decisions.decision_panel, name="decision_panel"),
    path(REQUEST + "retry/", decisions.push_retry, name="push_retry"),
    path(REQUEST + "conflict/", decisions.request_conflict, name="request_conflict"),
    path(REQUEST + "conflict/rebase/", decisions.conflict_rebase, name="conflict_rebase"),
    path(REQUEST + "conflict/cancel/", decisions.conflict_cancel, name="conflict_cancel"),
    # policies
    path(C + "approvals/policies/", policies.approval_policies, name="approval_policies"),
    path(C + "approvals/policies/new/", policies.policy_save, name="policy_create"),
    path(C + "approvals/policies/<int:pk>/", policies.policy_save, name="policy_update"),
    path(C + "approvals/policies/<int:pk>/delete/", policies.policy_delete, name="policy_delete"),
    path(C + "approvals/rules/new/", policies.auto_rule_save, name="auto_rule_create"),
    path(C + "approvals/rules/<int:pk>/", policies.auto_rule_save, name="auto_rule_update"),
    path(C + "approvals/rules/<int:pk>/delete/", policies.auto_rule_delete, name="auto_rule_delete"),
    path(C + "approvals/settings/", policies.approval_settings_save, name="approval_settings"),
]
