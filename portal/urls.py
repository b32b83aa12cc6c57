from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api.rest import api as rest_api
from audit import views_auth as audit_auth
from portal import views as portal_views

urlpatterns = [
    path("", include("portal.urls_app")),
    path("accounts/login/", audit_auth.login, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/setlang/", portal_views.set_language, name="set_language"),
    path("", include("invoices.urls")),
    path("", include("approvals.urls")),
    path("", include("findings.urls")),
    path("", include("audit.urls")),
    path("", include("operations.urls")),
    path("", include("api.urls")),
    path("api/v1/", rest_api.urls),
    path("admin/", admin.site.urls),
]
if settings.SANDBOX_ENABLED:  # the demo's and the tests' Alegra; never served unless asked for
    urlpatterns.append(path("sandbox/", include("alegra_sandbox.urls")))

handler403 = "portal.errors.forbidden"
handler404 = "portal.errors.not_found"
handler500 = "portal.errors.server_error"
