from django.urls import path

from . import views, webhooks

app_name = "invoices"

urlpatterns = [
    path("c/<int:company_id>/invoices/", views.invoice_list, name="invoice_list"),
    path("c/<int:company_id>/invoices/summary/", views.invoice_list_summary, name="invoice_list_summary"),
    path("c/<int:company_id>/invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("c/<int:company_id>/sync/", views.sync_page, name="sync_page"),
    path("c/<int:company_id>/sync/start/", views.sync_start, name="sync_start"),
    path("hooks/alegra/<int:company_id>/<str:secret>/", webhooks.alegra_webhook, name="alegra_webhook"),
]
