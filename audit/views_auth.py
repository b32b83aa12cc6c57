"""Django's login view, with every login and failed login written to the audit log."""

from django.contrib.auth import views as auth_views

from . import recorder


class AuditedLoginView(auth_views.LoginView):
    def form_valid(self, form):
        response = super().form_valid(form)
        recorder.login_recorded(user=form.get_user(), request=self.request)
        return response

    def form_invalid(self, form):
        recorder.login_failed_recorded(username=str(form.data.get("username", "")), request=self.request)
        return super().form_invalid(form)


login = AuditedLoginView.as_view()
