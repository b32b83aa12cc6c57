from django.urls import path

from . import views_edit, views_edit_requests

urlpatterns = [
    path("c/<int:company_id>/invoices/<int:pk>/edit/", views_edit.invoice_edit, name="invoice_edit"),
    path("c/<int:company_id>/invoices/<int:pk>/edit/recompute/", views_edit.invoice_edit_recompute,
         name="invoice_edit_recompute"),
    path("c/<int:company_id>/invoices/<int:pk>/edit/items/", views_edit.item_search,
         name="invoice_edit_items"),
    path("c/<int:company_id>/invoices/<int:pk>/edit/contacts/", views_edit.contact_search,
         name="invoice_edit_contacts"),
    path("c/<int:company_id>/invoices/<int:pk>/contact/", views_edit_requests.invoice_contact_edit,
         name="invoice_contact_edit"),
    path("c/<int:company_id>/invoices/<int:pk>/requests/", views_edit_requests.invoice_requests,
         name="invoice_requests"),
    path("c/<int:company_id>/requests/mine/", views_edit_requests.my_requests, name="my_requests"),
    path("c/<int:company_id>/requests/<int:pk>/", views_edit_requests.request_detail,
         name="request_detail"),
    path("c/<int:company_id>/requests/<int:pk>/submit/", views_edit_requests.request_submit_view,
         name="request_submit"),
    path("c/<int:company_id>/requests/<int:pk>/cancel/", views_edit_requests.request_cancel_view,
         name="request_cancel"),
    path("c/<int:company_id>/requests/<int:pk>/rebase/", views_edit_requests.request_rebase_view,
         name="request_rebase"),
    path("c/<int:company_id>/requests/<int:pk>/copy/", views_edit_requests.request_copy_view,
         name="request_copy"),
]
