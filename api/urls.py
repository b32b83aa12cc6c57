from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("c/<int:company_id>/tokens/", views.token_page, name="tokens"),
    path("c/<int:company_id>/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
