"""The page where a person creates and revokes their API tokens for one company."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal.access import MANAGE_ROLES, get_membership, remember_company

from . import outbound, services
from .forms import SubscriptionForm, TokenForm
from .models import ApiToken, EventDelivery, EventSubscription


@login_required
@never_cache
def token_page(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id)
    remember_company(request, company_id)
    allowed = services.ROLE_SCOPES[membership.role]
    form = TokenForm(request.POST or None, allowed=allowed)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.token_create(user=request.user, company=membership.company,
                                                  name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
                                                  expires_days=form.cleaned_data["expires_days"],
                                                  for_agent=form.cleaned_data["for_agent"])
        except services.TokenRefused as exc:
            form.add_error(exc.field or None, str(exc))
        else:
            form = TokenForm(allowed=allowed)
            messages.success(request, _("Token “%(name)s” created. Copy it now: it is not shown again.")
                             % {"name": token.name})
    tokens = list(ApiToken.objects.filter(user=request.user, company_id=company_id).order_by("-created_at", "-id"))
    context = {"company": membership.company, "membership": membership, "form": form, "tokens": tokens,
               "secret": secret}
    return render(request, "api/tokens.html", context, status=200 if secret or not form.errors else 400)


@login_required
@require_POST
def token_revoke(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    get_membership(request, company_id)
    token = ApiToken.objects.filter(pk=pk, company_id=company_id, user=request.user).first()
    if token is None:
        raise Http404("No such token")
    services.token_revoke(token=token, user=request.user)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api:tokens", company_id=company_id)


@login_required
@never_cache
def subscriptions_page(request: HttpRequest, company_id: int) -> HttpResponse:
    """A manager's outbound event subscriptions and their delivery log."""
    membership = get_membership(request, company_id, MANAGE_ROLES)
    remember_company(request, company_id)
    form = SubscriptionForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = outbound.subscription_create(company=membership.company, user=request.user,
                                                   url=form.cleaned_data["url"], events=form.cleaned_data["events"])
        except outbound.AddressRefused as refused:
            form.add_error("url", str(refused))
        else:
            form = SubscriptionForm()
            messages.success(request, _("Subscription created. Keep its secret to verify the signatures."))
    subscriptions = list(EventSubscription.objects.filter(company_id=company_id).order_by("id"))
    deliveries = list(EventDelivery.objects.filter(subscription__company_id=company_id)
                      .select_related("subscription").prefetch_related("log").order_by("-id")[:50])
    context = {"company": membership.company, "membership": membership, "form": form, "created": created,
               "subscriptions": subscriptions, "deliveries": deliveries}
    return render(request, "api/subscriptions.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    get_membership(request, company_id, MANAGE_ROLES)
    delivery = EventDelivery.objects.filter(pk=pk, subscription__company_id=company_id).first()
    if delivery is None:
        raise Http404("No such delivery")
    outbound.delivery_redeliver(delivery=delivery)
    messages.success(request, _("Delivery queued again."))
    return redirect("api:subscriptions", company_id=company_id)
