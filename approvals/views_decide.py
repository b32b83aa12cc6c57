"""The approver's screens: inbox, decisions, push state, conflicts, and the policies page.

Thin views: check access (outsiders get 404), validate, call one service,
respond. htmx requests get the partial they target and an `HX-Trigger` event
(`approvals-changed`) that the header counters listen to.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.access import ALL_ROLES, DECIDE_ROLES, MANAGE_ROLES, get_membership

from . import presenters, presenters_decide
from .forms_decide import AutoRuleForm, DecisionForm, InboxFilterForm, PolicyForm, SettingsForm
from .models import ApprovalSettings, AutoApprovalRule, ChangeRequest, Push, RoutingPolicy
from .services import decisions
from .services.decisions import DecisionRefused

CHANGED = "approvals-changed"
INBOX_LIMIT = 200


def _request_for(company_id: int, pk: int) -> ChangeRequest:
    try:
        return ChangeRequest.objects.select_related("company", "invoice", "requester").get(
            pk=pk, company_id=company_id)
    except ChangeRequest.DoesNotExist:
        raise Http404("No such change request") from None


def request_url(change_request: ChangeRequest) -> str:
    try:
        return reverse("approvals:request_detail", kwargs={"company_id": change_request.company_id, "pk": change_request.pk})
    except NoReverseMatch:
        return reverse("approvals:request_conflict", kwargs={"company_id": change_request.company_id, "pk": change_request.pk})


def _changed(response: HttpResponse) -> HttpResponse:
    response["HX-Trigger"] = CHANGED
    return response


def _form_error(form) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return _("Check the form.")


# --- inbox --------------------------------------------------------------------------


def _inbox_rows(company_id: int, user, data: dict) -> list[presenters_decide.InboxRow]:
    requests = presenters_decide.pending_requests(company_id)
    if data.get("kind"):
        requests = requests.filter(kind=data["kind"])
    if data.get("requester"):
        requests = requests.filter(requester_id=data["requester"])
    if data.get("older_than"):
        requests = requests.filter(submitted_at__lt=timezone.now() - timedelta(days=data["older_than"]))
    rows = [presenters_decide.inbox_row(cr, user) for cr in requests[:INBOX_LIMIT]]
    if data.get("min_impact") is not None:
        floor = Decimal(data["min_impact"])
        rows = [row for row in rows if abs(row.change_request.new_total - row.change_request.old_total) >= floor]
    if data.get("waiting", "mine") in ("", "mine"):
        rows = [row for row in rows if row.can_decide]
    return rows


@login_required
@require_GET
def approval_inbox(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id, DECIDE_ROLES)
    requesters = get_user_model().objects.filter(
        change_requests__company_id=company_id, change_requests__state=ChangeRequest.State.PENDING
    ).distinct().order_by("first_name", "username")
    form = InboxFilterForm(request.GET or None, requesters=requesters)
    data = form.cleaned_data if form.is_valid() else {}
    context = {"company": membership.company, "membership": membership, "form": form,
               "rows": _inbox_rows(company_id, request.user, data), "limit": INBOX_LIMIT}
    template = "approvals/inbox.html#rows" if request.htmx and not request.htmx.boosted else "approvals/inbox.html"
    return render(request, template, context)


@login_required
@require_GET
def approval_diff(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    membership = get_membership(request, company_id, ALL_ROLES)
    change_request = _request_for(company_id, pk)
    context = {"company": membership.company, "change_request": change_request,
               "view": presenters.present_request(change_request)}
    return render(request, "approvals/inbox.html#diff", context)


@login_required
@require_GET
def approval_counters(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id, ALL_ROLES)
    return render(request, "approvals/_counters.html#counters",
                  {"approval_counters": counters_for(membership, request.user)})


def counters_for(membership, user) -> dict:
    can_decide = membership.role in DECIDE_ROLES
    return {
        "company_id": membership.company_id,
        "role": membership.role,
        "can_decide": can_decide,
        "waiting": presenters_decide.waiting_count(membership.company_id, user) if can_decide else 0,
        "attention": presenters_decide.attention_count(membership.company_id, user),
    }


# --- deciding -----------------------------------------------------------------------


def _panel_response(request: HttpRequest, change_request: ChangeRequest, membership, *, error: str = "") -> HttpResponse:
    panel = presenters_decide.panel_for(change_request, membership, request.user, error=error)
    return render(request, "approvals/_decision_panel.html#panel",
                  {"panel": panel, "company": membership.company, "change_request": change_request})


@login_required
@require_POST
def request_decide(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    membership = get_membership(request, company_id, DECIDE_ROLES)
    change_request = _request_for(company_id, pk)
    form = DecisionForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _form_error(form)
    else:
        try:
            decisions.request_decide(change_request=change_request, user=request.user,
                                     outcome=form.cleaned_data["outcome"], comment=form.cleaned_data["comment"])
        except DecisionRefused as refused:
            error = refused.message
    change_request.refresh_from_db()
    if request.htmx:
        if request.POST.get("from") == "inbox":
            notice = "" if error else (_("Rejected.") if form.cleaned_data.get("outcome") == "reject"
                                      else _("Approval recorded."))
            row = presenters_decide.inbox_row(
                ChangeRequest.objects.select_related("invoice", "requester", "company").get(pk=change_request.pk),
                request.user, error=error, notice=notice)
            response = render(request, "approvals/inbox.html#row", {"row": row, "company": membership.company})
        else:
            response = _panel_response(request, change_request, membership, error=error)
        return response if error else _changed(response)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Your decision was recorded."))
    if request.POST.get("from") == "inbox":
        return redirect("approvals:approval_inbox", company_id=company_id)
    return redirect(request_url(change_request))


@login_required
@require_GET
def decision_panel(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    membership = get_membership(request, company_id, ALL_ROLES)
    change_request = _request_for(company_id, pk)
    if not request.htmx:
        return redirect(request_url(change_request))
    return _panel_response(request, change_request, membership)


@login_required
@require_POST
def push_retry(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    membership = get_membership(request, company_id, ALL_ROLES)
    change_request = _request_for(company_id, pk)
    error = ""
    try:
        decisions.push_retry(change_request=change_request, user=request.user)
    except DecisionRefused as refused:
        error = refused.message
    change_request.refresh_from_db()
    if request.htmx:
        response = _panel_response(request, change_request, membership, error=error)
        return response if error else _changed(response)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The change is queued for Alegra again."))
    return redirect(request_url(change_request))


# --- conflicts ----------------------------------------------------------------------


@login_required
@require_GET
def request_conflict(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    membership = get_membership(request, company_id, ALL_ROLES)
    change_request = _request_for(company_id, pk)
    push = change_request.pushes.filter(state=Push.State.CONFLICT).order_by("-created_at", "-id").first()
    remote = push.remote_document if push else None
    context = {
        "company": membership.company, "membership": membership, "change_request": change_request,
        "push": push, "view": presenters_decide.conflict_view(change_request, remote) if push else None,
        "is_conflict": change_request.state == ChangeRequest.State.CONFLICT,
        "can_rebase": change_request.requester_id == request.user.pk and membership.role == "accountant",
        "can_cancel": change_request.requester_id == request.user.pk or membership.role in MANAGE_ROLES,
        "request_url": request_url(change_request),
    }
    return render(request, "approvals/conflict.html", context)


@login_required
@require_POST
def conflict_rebase(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    get_membership(request, company_id, ALL_ROLES)
    change_request = _request_for(company_id, pk)
    try:
        decisions.conflict_rebase(change_request=change_request, user=request.user)
    except DecisionRefused as refused:
        messages.error(request, refused.message)
        return redirect("approvals:request_conflict", company_id=company_id, pk=pk)
    messages.success(request, _("The request now stands on Alegra's current version and waits for approval again."))
    return _changed(redirect(request_url(change_request)))


@login_required
@require_POST
def conflict_cancel(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    get_membership(request, company_id, ALL_ROLES)
    change_request = _request_for(company_id, pk)
    try:
        decisions.conflict_cancel(change_request=change_request, user=request.user,
                                  comment=request.POST.get("comment", "")[:2000])
    except DecisionRefused as refused:
        messages.error(request, refused.message)
        return redirect("approvals:request_conflict", company_id=company_id, pk=pk)
    messages.success(request, _("The request was cancelled; Alegra keeps its version."))
    return _changed(redirect(request_url(change_request)))


# --- policies -----------------------------------------------------------------------


def _members(company_id: int):
    return get_user_model().objects.filter(memberships__company_id=company_id).order_by("first_name", "username")


def _policy_initial(policy: RoutingPolicy) -> dict:
    return {"name": policy.name, "position": policy.position, "kind": policy.kind, "changes": policy.changes,
            "min_impact": policy.min_impact, "requested_by": policy.requested_by_id,
            "approvals_required": policy.approvals_required, "manager_required": policy.manager_required,
            "is_active": policy.is_active}


def _rule_initial(rule: AutoApprovalRule) -> dict:
    return {"name": rule.name, "kind": rule.kind, "is_active": rule.is_active,
            "max_discount_percent": rule.max_discount_percent, "max_impact": rule.max_impact}


def _policies_context(membership, *, failed=None, failed_target: tuple = (), settings_form=None) -> dict:
    """The page; `failed` is a bound form that did not save, shown where it was filled in."""
    company = membership.company
    members = list(_members(company.pk))

    def form_for(kind: str, pk, make):
        return failed if failed_target == (kind, pk) else make()

    policies = list(RoutingPolicy.objects.filter(company=company).select_related("requested_by"))
    rules = list(AutoApprovalRule.objects.filter(company=company))
    settings_row = ApprovalSettings.objects.filter(company=company).first()
    history = sorted(
        [*RoutingPolicy.history.filter(company_id=company.pk).select_related("history_user")[:30],
         *AutoApprovalRule.history.filter(company_id=company.pk).select_related("history_user")[:30],
         *ApprovalSettings.history.filter(company_id=company.pk).select_related("history_user")[:10]],
        key=lambda h: h.history_date, reverse=True)[:30]
    return {
        "company": company, "membership": membership, "is_manager": membership.role in MANAGE_ROLES,
        "policy_rows": [(p, form_for("policy", p.pk, lambda p=p: PolicyForm(
            members=members, prefix=f"p{p.pk}", initial=_policy_initial(p)))) for p in policies],
        "rule_rows": [(r, form_for("rule", r.pk, lambda r=r: AutoRuleForm(
            prefix=f"r{r.pk}", initial=_rule_initial(r)))) for r in rules],
        "policy_form": form_for("policy", None, lambda: PolicyForm(members=members)),
        "rule_form": form_for("rule", None, AutoRuleForm),
        "settings_form": settings_form or SettingsForm(initial={
            "remind_after_hours": settings_row.remind_after_hours if settings_row else 48}),
        "history": history, "failed_target": failed_target,
    }


@login_required
@require_GET
def approval_policies(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id, ALL_ROLES)
    return render(request, "approvals/policies.html", _policies_context(membership))


def _policy_of(company_id: int, pk: int | None):
    if pk is None:
        return None
    policy = RoutingPolicy.objects.filter(company_id=company_id, pk=pk).first()
    if policy is None:
        raise Http404("No such policy")
    return policy


@login_required
@require_POST
def policy_save(request: HttpRequest, company_id: int, pk: int | None = None) -> HttpResponse:
    membership = get_membership(request, company_id, MANAGE_ROLES)
    policy = _policy_of(company_id, pk)
    form = PolicyForm(request.POST, members=_members(company_id), prefix=f"p{policy.pk}" if policy else None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            decisions.policy_save(
                company=membership.company, user=request.user, policy=policy, name=data["name"],
                position=data["position"], kind=data["kind"], changes=data["changes"],
                min_impact=data["min_impact"], requested_by_id=data["requested_by"],
                approvals_required=data["approvals_required"], manager_required=data["manager_required"],
                is_active=data["is_active"])
        except DecisionRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Policy saved."))
            return redirect("approvals:approval_policies", company_id=company_id)
    context = _policies_context(membership, failed=form, failed_target=("policy", getattr(policy, "pk", None)))
    return render(request, "approvals/policies.html", context, status=400)


@login_required
@require_POST
def policy_delete(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    get_membership(request, company_id, MANAGE_ROLES)
    policy = _policy_of(company_id, pk)
    decisions.policy_delete(policy=policy, user=request.user)
    messages.success(request, _("Policy deleted."))
    return redirect("approvals:approval_policies", company_id=company_id)


def _rule_of(company_id: int, pk: int | None):
    if pk is None:
        return None
    rule = AutoApprovalRule.objects.filter(company_id=company_id, pk=pk).first()
    if rule is None:
        raise Http404("No such rule")
    return rule


@login_required
@require_POST
def auto_rule_save(request: HttpRequest, company_id: int, pk: int | None = None) -> HttpResponse:
    membership = get_membership(request, company_id, MANAGE_ROLES)
    rule = _rule_of(company_id, pk)
    form = AutoRuleForm(request.POST, prefix=f"r{rule.pk}" if rule else None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            decisions.auto_rule_save(
                company=membership.company, user=request.user, rule=rule, name=data["name"], kind=data["kind"],
                is_active=data["is_active"], max_discount_percent=data["max_discount_percent"],
                max_impact=data["max_impact"])
        except DecisionRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Auto-approval rule saved."))
            return redirect("approvals:approval_policies", company_id=company_id)
    context = _policies_context(membership, failed=form, failed_target=("rule", getattr(rule, "pk", None)))
    return render(request, "approvals/policies.html", context, status=400)


@login_required
@require_POST
def auto_rule_delete(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    get_membership(request, company_id, MANAGE_ROLES)
    rule = _rule_of(company_id, pk)
    decisions.auto_rule_delete(rule=rule, user=request.user)
    messages.success(request, _("Auto-approval rule removed."))
    return redirect("approvals:approval_policies", company_id=company_id)


@login_required
@require_POST
def approval_settings_save(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id, MANAGE_ROLES)
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            decisions.approval_settings_save(company=membership.company, user=request.user,
                                             remind_after_hours=form.cleaned_data["remind_after_hours"])
        except DecisionRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Reminder settings saved."))
            return redirect("approvals:approval_policies", company_id=company_id)
    return render(request, "approvals/policies.html", _policies_context(membership, settings_form=form), status=400)
