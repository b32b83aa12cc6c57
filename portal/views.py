from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import i18n as i18n_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import hooks, notifications
from .models import Preference
from .access import current_membership, get_membership, memberships_for, remember_company


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language of my screens and e-mails"), required=False,
                                 choices=Preference._meta.get_field("language").choices)
    mail = forms.ChoiceField(label=gettext_lazy("E-mail me about requests and findings"),
                             choices=Preference.Mail.choices, widget=forms.RadioSelect)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if "company_id" not in request.session:
        # A new session lands on the company this person used last (members of several).
        last = notifications.last_company_id(request.user)
        if last is not None and any(m.company_id == last for m in memberships_for(request.user)):
            request.session["company_id"] = last
    membership = current_membership(request)
    if membership is None:
        return render(request, "portal/no_company.html")
    return redirect("portal:company_home", company_id=membership.company_id)


@login_required
def company_home(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id)
    if request.session.get("company_id") != company_id:
        notifications.remember_last_company(request.user, company_id)
    remember_company(request, company_id)
    return render(request, "portal/company_home.html", {
        "membership": membership, "company": membership.company,
        "panels": hooks.home_panels(membership, request.user)})


@login_required
@require_POST
def switch_company(request: HttpRequest) -> HttpResponse:
    try:
        company_id = int(request.POST.get("company_id", ""))
    except ValueError:
        return redirect("portal:home")
    get_membership(request, company_id)
    request.session["company_id"] = company_id
    notifications.remember_last_company(request.user, company_id)
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(reverse("portal:company_home", kwargs={"company_id": company_id}))


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


# --- notifications and preferences -------------------------------------------------------


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """The bell's list: newest first; what it shows is marked read (the count is what came since)."""
    rows = notifications.recent(request.user)
    unread = {row.pk for row in rows if row.read_at is None}
    entries = [{"row": row, "text": notifications.subject_of(row), "unread": row.pk in unread} for row in rows]
    if request.method == "POST":
        notifications.mark_read(user=request.user)
        return redirect("portal:notifications")
    notifications.mark_read(user=request.user, ids=unread)
    return render(request, "portal/notifications.html", {"entries": entries})


@login_required
def notification_bell(request: HttpRequest) -> HttpResponse:
    """The bell with its count: fetched by htmx after the page (no query on every page's render)."""
    return render(request, "portal/_bell.html", {"unread": notifications.unread_count(request.user)})


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    preference = notifications.preference_for(request.user)
    form = PreferenceForm(request.POST or None, initial={"language": preference.language, "mail": preference.mail})
    if request.method == "POST" and form.is_valid():
        notifications.preference_save(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your preferences are saved."))
        response = redirect("portal:preferences")
        if form.cleaned_data["language"]:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, form.cleaned_data["language"],
                                max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax")
        else:  # the portal's default: a language chosen before must not go on overriding it
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, samesite="Lax")
        return response
    return render(request, "portal/preferences.html", {"form": form}, status=400 if form.is_bound else 200)


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch; for a person logged in, it is their preference too (their e-mails follow)."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and language in dict(settings.LANGUAGES):
        notifications.preference_save(user=request.user, language=language)
    return response
