"""The policies page: routing policies, auto-approval rules and reminder settings (managers edit)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.access import ALL_ROLES, MANAGE_ROLES, get_membership

from ..errors import ApprovalError
from ..forms.decide import AutoRuleForm, PolicyForm, SettingsForm
from ..models import ApprovalSettings, AutoApprovalRule, RoutingPolicy
from ..services import policies


def _members(company_id: int):
    return get_user_model().objects.filter(memberships__company_id=company_id).order_by("first_name", "username")


def _page(membership, *, failed=None, failed_target: tuple = (), settings_form=None) -> dict:
    """The page; `failed` is a bound form that did not save, shown where it was filled in."""
    company = membership.company
    members = list(_members(company.pk))

    def form_for(kind: str, pk, make):
        return failed if failed_target == (kind, pk) else make()

    rows = list(RoutingPolicy.objects.filter(company=company).select_related("requested_by"))
    rules = list(AutoApprovalRule.objects.filter(company=company))
    settings_row = ApprovalSettings.objects.filter(company=company).first() or ApprovalSettings(company=company)
    history = sorted(
        [*RoutingPolicy.history.filter(company_id=company.pk).select_related("history_user")[:30],
         *AutoApprovalRule.history.filter(company_id=company.pk).select_related("history_user")[:30],
         *ApprovalSettings.history.filter(company_id=company.pk).select_related("history_user")[:10]],
        key=lambda h: h.history_date, reverse=True)[:30]
    return {
        "company": company, "membership": membership, "is_manager": membership.role in MANAGE_ROLES,
        "policy_rows": [(p, form_for("policy", p.pk, lambda p=p: PolicyForm(
            members=members, prefix=f"p{p.pk}", instance=p))) for p in rows],
        "rule_rows": [(r, form_for("rule", r.pk, lambda r=r: AutoRuleForm(prefix=f"r{r.pk}", instance=r)))
                      for r in rules],
        # Both "new" forms name their fields alike: ids of their own keep every label tied to its box.
        "policy_form": form_for("policy", None, lambda: PolicyForm(members=members, auto_id="new-policy-%s")),
        "rule_form": form_for("rule", None, lambda: AutoRuleForm(auto_id="new-rule-%s")),
        "settings_form": settings_form or SettingsForm(instance=settings_row),
        "history": history, "failed_target": failed_target,
    }


def _owned(model, company_id: int, pk: int | None):
    if pk is None:
        return None
    found = model.objects.filter(company_id=company_id, pk=pk).first()
    if found is None:
        raise Http404("No such policy or rule")
    return found


def _saved_or_page(request, membership, form, target: tuple, save, done: str) -> HttpResponse:
    """Save through the service when the form parses; else the page again with the form's errors."""
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except ApprovalError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, done)
            return redirect("approvals:approval_policies", company_id=membership.company_id)
    return render(request, "approvals/policies.html", _page(membership, failed=form, failed_target=target),
                  status=400)


@login_required
@require_GET
def approval_policies(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id, ALL_ROLES)
    return render(request, "approvals/policies.html", _page(membership))


@login_required
@require_POST
def policy_save(request: HttpRequest, company_id: int, pk: int | None = None) -> HttpResponse:
    membership = get_membership(request, company_id, MANAGE_ROLES)
    policy = _owned(RoutingPolicy, company_id, pk)
    form = PolicyForm(request.POST, members=_members(company_id), prefix=f"p{policy.pk}" if policy else None,
                      instance=RoutingPolicy.objects.get(pk=policy.pk) if policy else None)

    def save(data):
        requested_by = data.pop("requested_by")
        policies.policy_save(company=membership.company, user=request.user, policy=policy,
                             requested_by_id=requested_by.pk if requested_by else None, **data)
    return _saved_or_page(request, membership, form, ("policy", pk), save, _("Policy saved."))


def _deleted(request: HttpRequest, company_id: int, delete, done: str) -> HttpResponse:
    get_membership(request, company_id, MANAGE_ROLES)
    delete()
    messages.success(request, done)
    return redirect("approvals:approval_policies", company_id=company_id)


@login_required
@require_POST
def policy_delete(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    return _deleted(request, company_id, lambda: policies.policy_delete(
        policy=_owned(RoutingPolicy, company_id, pk), user=request.user), _("Policy deleted."))


@login_required
@require_POST
def auto_rule_save(request: HttpRequest, company_id: int, pk: int | None = None) -> HttpResponse:
    membership = get_membership(request, company_id, MANAGE_ROLES)
    rule = _owned(AutoApprovalRule, company_id, pk)
    form = AutoRuleForm(request.POST, prefix=f"r{rule.pk}" if rule else None,
                        instance=AutoApprovalRule.objects.get(pk=rule.pk) if rule else None)

    def save(data):
        policies.auto_rule_save(company=membership.company, user=request.user, rule=rule, **data)
    return _saved_or_page(request, membership, form, ("rule", pk), save, _("Auto-approval rule saved."))


@login_required
@require_POST
def auto_rule_delete(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    return _deleted(request, company_id, lambda: policies.auto_rule_delete(
        rule=_owned(AutoApprovalRule, company_id, pk), user=request.user), _("Auto-approval rule removed."))


@login_required
@require_POST
def approval_settings_save(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id, MANAGE_ROLES)
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            policies.approval_settings_save(company=membership.company, user=request.user,
                                            remind_after_hours=form.cleaned_data["remind_after_hours"])
        except ApprovalError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Reminder settings saved."))
            return redirect("approvals:approval_policies", company_id=company_id)
    return render(request, "approvals/policies.html", _page(membership, settings_form=form), status=400)
