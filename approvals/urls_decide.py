from django.urls import path

from . import views_decide as views

urlpatterns = [
    path("c/<int:company_id>/approvals/", views.approval_inbox, name="approval_inbox"),
    path("c/<int:company_id>/approvals/counters/", views.approval_counters, name="approval_counters"),
    path("c/<int:company_id>/approvals/policies/", views.approval_policies, name="approval_policies"),
    path("c/<int:company_id>/approvals/policies/new/", views.policy_save, name="policy_create"),
    path("c/<int:company_id>/approvals/policies/<int:pk>/", views.policy_save, name="policy_update"),
    path("c/<int:company_id>/approvals/policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
    path("c/<int:company_id>/approvals/rules/new/", views.auto_rule_save, name="auto_rule_create"),
    path("c/<int:company_id>/approvals/rules/<int:pk>/", views.auto_rule_save, name="auto_rule_update"),
    path("c/<int:company_id>/approvals/rules/<int:pk>/delete/", views.auto_rule_delete, name="auto_rule_delete"),
    path("c/<int:company_id>/approvals/settings/", views.approval_settings_save, name="approval_settings"),
    path("c/<int:company_id>/requests/<int:pk>/diff/", views.approval_diff, name="approval_diff"),
    path("c/<int:company_id>/requests/<int:pk>/decide/", views.request_decide, name="request_decide"),
    path("c/<int:company_id>/requests/<int:pk>/panel/", views.decision_panel, name="decision_panel"),
    path("c/<int:company_id>/requests/<int:pk>/retry/", views.push_retry, name="push_retry"),
    path("c/<int:company_id>/requests/<int:pk>/conflict/", views.request_conflict, name="request_conflict"),
    path("c/<int:company_id>/requests/<int:pk>/conflict/rebase/", views.conflict_rebase, name="conflict_rebase"),
    path("c/<int:company_id>/requests/<int:pk>/conflict/cancel/", views.conflict_cancel, name="conflict_cancel"),
]
