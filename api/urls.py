from django.urls import path

from . import mcp_http, views

app_name = "api"

urlpatterns = [
    path("c/<int:company_id>/tokens/", views.token_page, name="tokens"),
    path("c/<int:company_id>/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("c/<int:company_id>/events/", views.subscriptions_page, name="subscriptions"),
    path("c/<int:company_id>/events/deliveries/<int:pk>/redeliver/", views.delivery_redeliver,
         name="delivery_redeliver"),
    # MCP for AI agents (streamable HTTP); the SDK's clients name the address with or without the slash.
    path("mcp/", mcp_http.endpoint, name="mcp"),
    path("mcp", mcp_http.endpoint, name="mcp_no_slash"),
]
