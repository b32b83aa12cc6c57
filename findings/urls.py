from django.urls import path

from . import views
from .learning import views as learning

app_name = "findings"

urlpatterns = [
    path("c/<int:company_id>/review/", views.review, name="review"),
    path("c/<int:company_id>/review/scan/", views.scan_start, name="scan_start"),
    path("c/<int:company_id>/findings/<int:pk>/", views.finding_detail, name="finding_detail"),
    path("c/<int:company_id>/findings/<int:pk>/dismiss/", views.finding_dismiss, name="finding_dismiss"),
    path("c/<int:company_id>/findings/<int:pk>/correct/", views.finding_correct, name="finding_correct"),
    path("c/<int:company_id>/findings/<int:pk>/confirm/", views.finding_confirm, name="finding_confirm"),
    path("c/<int:company_id>/learning/", learning.learning, name="learning"),
    path("c/<int:company_id>/learning/threshold/", learning.threshold_save, name="learning_threshold"),
    path("c/<int:company_id>/learning/<int:pk>/", learning.exception_detail, name="exception_detail"),
    path("c/<int:company_id>/learning/<int:pk>/revoke/", learning.exception_revoke, name="exception_revoke"),
    path("c/<int:company_id>/learning/proposals/<slug:kind>/accept/", learning.proposal_accept,
         name="proposal_accept"),
    path("c/<int:company_id>/learning/fixes/", learning.fix_rule_create, name="fix_rule_create"),
    path("c/<int:company_id>/learning/fixes/<int:pk>/off/", learning.fix_rule_off, name="fix_rule_off"),
    path("c/<int:company_id>/learning/fixes/<int:pk>/edit/", learning.fix_rule_edit, name="fix_rule_edit"),
    path("c/<int:company_id>/requests/<int:pk>/hint/", learning.request_hint, name="request_hint"),
    path("c/<int:company_id>/invoices/<int:pk>/findings/", views.invoice_findings, name="invoice_findings"),
    path("c/<int:company_id>/month-end/", views.month_end, name="month_end"),
    path("c/<int:company_id>/month-end/export.csv", views.month_end_export, name="month_end_export"),
]
