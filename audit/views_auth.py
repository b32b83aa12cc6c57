"""Django's login view, with every login, failed login and lockout written to the audit log.

Throttling is django-axes' (see the settings): this module gives it the lockout page, which
says the same whether the name typed exists or not, and the client's address.
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import sessions


class AuditedLoginView(auth_views.LoginView):
    def form_valid(self, form):
        response = super().form_valid(form)
        sessions.login_recorded(user=form.get_user(), request=self.request)
        return response

    def form_invalid(self, form):
        # An attempt refused because of a lockout is recorded as such by `locked_out`.
        if not getattr(self.request, "axes_locked_out", False):
            sessions.login_failed_recorded(username=str(form.data.get("username", "")), request=self.request)
        return super().form_invalid(form)


login = AuditedLoginView.as_view()


def locked_out(request, original_response=None, credentials=None):
    """The answer to every attempt while its user name or address is locked out (429)."""
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))[:150]
    sessions.login_locked_out_recorded(username=username, request=request,
                                       failures=getattr(request, "axes_failures_since_start", None))
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _("Too many failed attempts to log in with this user name or from this address. "
                "Try again in %(minutes)s minutes.") % {"minutes": minutes}
    context = {"form": AuthenticationForm(request), "locked_out": message, "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=429)
