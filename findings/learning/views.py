"""What Enmienda has learned (Aprendizajes): learned exceptions with who taught them, when, why and
what they silence; each detector's learned precision; the manager's threshold and revocations.

Everyone in the company reads (an accountant or an auditor can always see why something was or
was not flagged); only managers revoke and set the threshold; outsiders get 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from portal import formats
from portal.access import get_membership, remember_company
from portal.models import Role

from ..errors import FindingRefused
from ..forms import (
    FixRuleEditForm,
    FixRuleForm,
    LearningFilterForm,
    RevokeForm,
    ThresholdForm,
)
from ..models import Finding, LearnedException
from ..requests import AutoApprovalRule, ChangeRequest
from . import hints, presenters, proposals, queries, services

MANAGE = {Role.MANAGER}
KIND_LABELS = dict(Finding.Kind.choices)


def _exception_for(request: HttpRequest, company_id: int, pk: int, roles=None):
    membership = get_membership(request, company_id, roles) if roles else get_membership(request, company_id)
    exception = (LearnedException.objects.filter(pk=pk, company_id=company_id)
                 .select_related("taught_by", "revoked_by", "from_finding").first())
    if exception is None:
        raise Http404("No such learned exception")
    return exception, membership


def _rows(exceptions, country: str) -> list[dict]:
    return [{"exception": e, "accepted": presenters.accepted_text(e.kind, e.scope or {}, country)}
            for e in exceptions]


@login_required
@require_GET
def learning(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id)
    remember_company(request, company_id)
    template = "findings/learning.html#table" if request.htmx and not request.htmx.boosted else "findings/learning.html"
    return render(request, template, _page(request, membership))


def _page(request: HttpRequest, membership, failed: dict | None = None) -> dict:
    """The page's context; `failed` maps a rule's id to its edit form that did not save, shown
    where it was filled in with its messages."""
    company_id = membership.company_id
    form = LearningFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page = queries.learning_page(company_id, data)
    threshold = services.threshold_of(company_id)
    detectors = [{"name": presenters.detector_name(d.kind, d.cause), "detector": d,
                  "precision": presenters.percent(d.precision),
                  "low": presenters.percent(d.interval[0]), "high": presenters.percent(d.interval[1])}
                 for d in page.detectors]
    params = request.GET.copy()
    params.pop("page", None)
    can_manage = membership.role == Role.MANAGER
    context = {"company": membership.company, "membership": membership, "form": form, "page": page,
               "rows": _rows(page.rows, membership.company.country), "detectors": detectors,
               "threshold": threshold, "threshold_text": presenters.percent(threshold) if threshold else "",
               "can_manage": can_manage,
               "threshold_form": ThresholdForm(initial={"hide_below": threshold}), "revoke_form": RevokeForm(),
               "base_query": params.urlencode(), "fix_rules": _fix_rule_rows(membership, failed or {}),
               "fix_form": FixRuleForm()}
    if can_manage and not request.htmx:
        country = membership.company.country
        context["proposals"] = [{"proposal": p, "name": presenters.proposal_name(p, country),
                                 "evidence": presenters.proposal_evidence(p, country)}
                                for p in proposals.proposals_for(company_id)]
    return context


def _fix_rule_rows(membership, failed: dict) -> list[dict]:
    """Every finding-fix rule of the company, on ones first; a manager gets a form on each."""
    country = membership.company.country
    rows = []
    for rule in queries.fix_rules(membership.company_id):
        form = failed.get(rule.pk)
        if form is None and membership.role == Role.MANAGER:
            form = FixRuleEditForm(auto_id=f"fix-rule-{rule.pk}-%s", initial={
                "max_impact": formats.number(rule.max_impact.normalize(), country), "is_active": rule.is_active})
        rows.append({"rule": rule, "form": form, "limit": presenters.amount(rule.max_impact, country),
                     "kind": KIND_LABELS.get(rule.finding_kind, rule.finding_kind)})
    return rows


@login_required
@require_GET
def exception_detail(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    exception, membership = _exception_for(request, company_id, pk)
    versions = list(exception.history.select_related("history_user").order_by("-history_date", "-history_id")[:50])
    context = {"company": membership.company, "membership": membership, "exception": exception,
               "accepted": presenters.accepted_text(exception.kind, exception.scope or {}, membership.company.country),
               "findings": queries.silenced_findings(exception), "versions": versions,
               "can_manage": membership.role == Role.MANAGER and exception.is_active, "revoke_form": RevokeForm()}
    return render(request, "findings/learned_exception.html", context)


@login_required
@require_POST
def exception_revoke(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    exception, _membership = _exception_for(request, company_id, pk, MANAGE)
    form = RevokeForm(request.POST)
    try:
        if not form.is_valid():
            raise FindingRefused(form.refusal(_("Say why it is revoked: a reason is required.")))
        back = services.exception_revoke(exception=exception, user=request.user, reason=form.cleaned_data["reason"])
    except FindingRefused as exc:
        messages.error(request, str(exc))
        return redirect("findings:exception_detail", company_id=company_id, pk=pk)
    messages.success(request, ngettext(
        "Learned exception #%(number)s revoked: %(n)s finding is back on the Review page.",
        "Learned exception #%(number)s revoked: %(n)s findings are back on the Review page.", back)
        % {"number": exception.pk, "n": back})
    return redirect("findings:learning", company_id=company_id)


@login_required
@require_POST
def threshold_save(request: HttpRequest, company_id: int) -> HttpResponse:
    get_membership(request, company_id, MANAGE)
    form = ThresholdForm(request.POST)
    try:
        if not form.is_valid():
            raise FindingRefused(_("Write the threshold as a number between 0 and 1 (for example 0.3)."))
        row = services.learning_settings_save(company_id=company_id, user=request.user,
                                              hide_below=form.cleaned_data["hide_below"])
    except FindingRefused as exc:
        messages.error(request, str(exc))
        return redirect("findings:learning", company_id=company_id)
    if row.hide_below:
        messages.success(request, _("Findings whose learned confidence is below %(value)s are now hidden from "
                                    "the Review page.") % {"value": presenters.percent(row.hide_below)})
    else:
        messages.success(request, _("No finding is hidden for its confidence any more."))
    return redirect("findings:learning", company_id=company_id)


@login_required
@require_GET
def request_hint(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    """The approver's hint on a request (embedded in its decision panel through htmx)."""
    membership = get_membership(request, company_id)
    change_request = ChangeRequest.objects.filter(pk=pk, company_id=company_id).first()
    if change_request is None:
        raise Http404("No such request")
    found = hints.hint_for(change_request)
    context = {"company": membership.company, "membership": membership, "change_request": change_request,
               "hint": found, "text": presenters.hint_text(found, membership.company.country)}
    template = "findings/hint.html#hint" if request.htmx else "findings/hint.html"
    return render(request, template, context)


@login_required
@require_POST
def proposal_accept(request: HttpRequest, company_id: int, kind: str) -> HttpResponse:
    membership = get_membership(request, company_id, MANAGE)
    try:
        rule = services.proposal_accept(company=membership.company, user=request.user, kind=kind)
    except FindingRefused as exc:
        messages.error(request, str(exc))
        return redirect("findings:learning", company_id=company_id)
    messages.success(request, _("Auto-approval rule “%(name)s” created and switched on.") % {"name": rule.name})
    return redirect("findings:learning", company_id=company_id)


@login_required
@require_POST
def fix_rule_create(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id, MANAGE)
    form = FixRuleForm(request.POST)
    try:
        if not form.is_valid():
            raise FindingRefused("")
        rule = services.fix_rule_create(company=membership.company, user=request.user, **form.cleaned_data)
    except FindingRefused as exc:
        # The page again, the form as it was filled in and its message on its field (a redirect
        # lost the name and the kind typed).
        if str(exc):
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return render(request, "findings/learning.html", {**_page(request, membership), "fix_form": form},
                      status=400)
    messages.success(request, _("Rule “%(name)s” switched on: fixes within its limit are now applied by "
                                "themselves, through the approval route.") % {"name": rule.name})
    return redirect("findings:learning", company_id=company_id)


@login_required
@require_POST
def fix_rule_off(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    membership = get_membership(request, company_id, MANAGE)
    rule = AutoApprovalRule.objects.filter(pk=pk, company_id=company_id).first()
    if rule is None:
        raise Http404("No such rule")
    try:
        services.fix_rule_switch_off(company=membership.company, user=request.user, rule=rule)
    except FindingRefused as exc:
        messages.error(request, str(exc))
        return redirect("findings:learning", company_id=company_id)
    messages.success(request, _("Rule “%(name)s” switched off.") % {"name": rule.name})
    return redirect("findings:learning", company_id=company_id)


@login_required
@require_POST
def fix_rule_edit(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    """A manager changes a finding-fix rule's limit or switches it on or off; a value that does
    not do is told on its field, and nothing changes."""
    membership = get_membership(request, company_id, MANAGE)
    rule = AutoApprovalRule.objects.filter(pk=pk, company_id=company_id, kind=AutoApprovalRule.Kind.FINDING_FIX).first()
    if rule is None:
        raise Http404("No such rule")
    form = FixRuleEditForm(request.POST, auto_id=f"fix-rule-{rule.pk}-%s")
    if form.is_valid():
        try:
            saved = services.fix_rule_edit(company=membership.company, user=request.user, rule=rule,
                                           **form.cleaned_data)
        except FindingRefused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            limit = presenters.amount(saved.max_impact, membership.company.country)
            text = (_("Rule “%(name)s” saved: on, for fixes up to %(limit)s.") if saved.is_active
                    else _("Rule “%(name)s” saved: off."))
            messages.success(request, text % {"name": saved.name, "limit": limit})
            return redirect("findings:learning", company_id=company_id)
    return render(request, "findings/learning.html", _page(request, membership, {rule.pk: form}), status=400)
