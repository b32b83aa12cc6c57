from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("c/<int:company_id>/audit/", views.audit_log, name="audit_log"),
    path("c/<int:company_id>/audit/export.<str:fmt>", views.audit_export, name="audit_export"),
    path("c/<int:company_id>/audit/verify/", views.audit_verify, name="audit_verify"),
    path("c/<int:company_id>/invoices/<int:pk>/history/", views.invoice_timeline, name="invoice_timeline"),
    path("c/<int:company_id>/invoices/<int:pk>/history/<int:history_id>/restore/", views.invoice_restore,
         name="invoice_restore"),
]
