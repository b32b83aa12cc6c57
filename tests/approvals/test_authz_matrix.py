"""Every URL of the portal × every kind of visitor → the expected status.

Rows are (URL name → how to call it, and the status each visitor gets). A URL added to the
project without a row makes `test_every_url_has_a_row` fail: decide who may use it, then add it.

Visitors: anonymous; the company's accountant (who asked for the change request), approver
and manager; and `outsider`, a manager of another company, who must learn nothing (404).
"login" means a redirect to the login page.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from api.services import token_create
from approvals.models import AutoApprovalRule, RoutingPolicy
from approvals.services import requests as request_services
from approvals.services.submission import request_submitted
from findings.models import Finding, LearnedException
from invoices.models import SyncRun
from tests.factories.edit import make_invoice, mirror_catalogue
from tests.factories import make_user

VISITORS = ("anonymous", "accountant", "approver", "manager", "outsider")
# Not the portal's own pages; each is guarded by its own mechanism and tested where it lives.
EXEMPT_PREFIXES = {
    "admin/": "Django's admin: staff users only, by Django's own checks",
    "sandbox/": "the Alegra simulator's API: HTTP Basic with a sandbox token (tests/sandbox)",
    "api/v1/": "the REST API: bearer tokens, its own matrix of scopes × roles × companies (tests/api/test_authz.py)",
    "mcp": "MCP for agents: bearer tokens, its own matrix of tools × scopes × roles × companies (tests/api/test_authz.py)",
}


@dataclass(frozen=True)
class Row:
    target: str  # what the URL's kwargs point at: none, company, invoice, request, policy, rule, webhook,
    # export (an audit export format), version (one version of the invoice), finding, token, delivery
    method: str
    statuses: tuple  # one per visitor, in VISITORS order
    data: dict = field(default_factory=dict)
    htmx: bool = False


def row(target, method, anonymous, accountant, approver, manager, outsider, **kwargs) -> Row:
    return Row(target, method, (anonymous, accountant, approver, manager, outsider), **kwargs)


MEMBERS_READ = ("login", 200, 200, 200, 404)

MATRIX: dict[str, Row] = {
    # portal
    "portal:home": row("none", "GET", "login", 302, 302, 302, 302),
    "portal:health": row("none", "GET", 200, 200, 200, 200, 200),
    "portal:company_home": row("company", "GET", *MEMBERS_READ),
    "portal:switch_company": row("none", "POST", "login", 302, 302, 302, 302),
    "portal:notifications": row("none", "GET", "login", 200, 200, 200, 200),
    "portal:notification_bell": row("none", "GET", "login", 200, 200, 200, 200),
    "portal:preferences": row("none", "GET", "login", 200, 200, 200, 200),
    "login": row("none", "GET", 200, 200, 200, 200, 200),
    "logout": row("none", "POST", 302, 302, 302, 302, 302),
    "password_change": row("none", "GET", "login", 200, 200, 200, 200),
    "password_change_done": row("none", "GET", "login", 200, 200, 200, 200),
    "set_language": row("none", "POST", 302, 302, 302, 302, 302, data={"language": "en"}),
    # the mirror
    "invoices:invoice_list": row("company", "GET", *MEMBERS_READ),
    "invoices:invoice_list_summary": row("company", "GET", *MEMBERS_READ),
    "invoices:invoice_detail": row("invoice", "GET", *MEMBERS_READ),
    "invoices:sync_page": row("company", "GET", *MEMBERS_READ),
    "invoices:sync_start": row("company", "POST", "login", 302, 403, 302, 404),
    "invoices:alegra_webhook": row("webhook", "POST", 200, 200, 200, 200, 200),
    # editing and requests
    "approvals:invoice_edit": row("invoice", "GET", "login", 200, 403, 403, 404),
    "approvals:invoice_edit_recompute": row("invoice", "POST", "login", 200, 403, 403, 404),
    "approvals:invoice_edit_items": row("invoice", "GET", "login", 200, 403, 403, 404),
    "approvals:invoice_edit_contacts": row("invoice", "GET", "login", 200, 403, 403, 404),
    "approvals:invoice_contact_edit": row("invoice", "GET", "login", 200, 403, 403, 404),
    "approvals:my_requests": row("company", "GET", *MEMBERS_READ),
    "approvals:request_detail": row("request", "GET", *MEMBERS_READ),
    "approvals:invoice_requests": row("invoice", "GET", *MEMBERS_READ, htmx=True),
    "approvals:request_submit": row("request", "POST", "login", 302, 302, 302, 404),
    "approvals:request_cancel": row("request", "POST", "login", 302, 302, 302, 404),
    "approvals:request_rebase": row("request", "POST", "login", 302, 302, 302, 404),
    "approvals:request_copy": row("request", "POST", "login", 302, 302, 302, 404),
    # approvals
    "approvals:approval_inbox": row("company", "GET", "login", 403, 200, 200, 404),
    "approvals:approval_counters": row("company", "GET", *MEMBERS_READ, htmx=True),
    "approvals:approval_diff": row("request", "GET", *MEMBERS_READ, htmx=True),
    # An empty post is refused: the request's page again, with the error beside the form.
    "approvals:request_decide": row("request", "POST", "login", 403, 200, 200, 404),
    "approvals:decision_panel": row("request", "GET", *MEMBERS_READ, htmx=True),
    "approvals:push_retry": row("request", "POST", "login", 302, 302, 302, 404),
    "approvals:request_conflict": row("request", "GET", *MEMBERS_READ),
    "approvals:conflict_rebase": row("request", "POST", "login", 302, 302, 302, 404),
    "approvals:conflict_cancel": row("request", "POST", "login", 302, 302, 302, 404),
    "approvals:approval_policies": row("company", "GET", *MEMBERS_READ),
    "approvals:policy_create": row("company", "POST", "login", 403, 403, 400, 404),
    "approvals:policy_update": row("policy", "POST", "login", 403, 403, 400, 404),
    "approvals:policy_delete": row("policy", "POST", "login", 403, 403, 302, 404),
    "approvals:auto_rule_create": row("company", "POST", "login", 403, 403, 400, 404),
    "approvals:auto_rule_update": row("rule", "POST", "login", 403, 403, 400, 404),
    "approvals:auto_rule_delete": row("rule", "POST", "login", 403, 403, 302, 404),
    "approvals:approval_settings": row("company", "POST", "login", 403, 403, 400, 404),
    # audit
    "audit:audit_log": row("company", "GET", "login", 403, 403, 200, 404),
    "audit:audit_export": row("export", "GET", "login", 403, 403, 200, 404),
    "audit:audit_verify": row("company", "POST", "login", 403, 403, 302, 404),
    "audit:invoice_timeline": row("invoice", "GET", *MEMBERS_READ),
    "audit:invoice_restore": row("version", "POST", "login", 302, 403, 403, 404),
    # operations: for load balancers and monitoring, the same answer for everyone (no scheduler
    # beats in this world, so not ready); metrics exist only with a METRICS_TOKEN (tests/operations)
    "operations:ready": row("none", "GET", 503, 503, 503, 503, 503),
    "operations:metrics": row("none", "GET", 404, 404, 404, 404, 404),
    # findings: accountants and managers work on them; approvers read (the evidence explains the
    # corrections they decide on); only accountants draft corrections
    "findings:review": row("company", "GET", *MEMBERS_READ),
    "findings:scan_start": row("company", "POST", "login", 302, 403, 302, 404),
    "findings:finding_detail": row("finding", "GET", *MEMBERS_READ),
    "findings:finding_dismiss": row("finding", "POST", "login", 302, 403, 302, 404, data={"reason": "Precio pactado"}),
    "findings:finding_correct": row("finding", "POST", "login", 302, 403, 403, 404),
    "findings:invoice_findings": row("invoice", "GET", *MEMBERS_READ, htmx=True),
    "findings:month_end": row("company", "GET", *MEMBERS_READ),
    "findings:month_end_export": row("company", "GET", *MEMBERS_READ),
    "findings:finding_confirm": row("finding", "POST", "login", 302, 403, 302, 404),
    # learning: everyone in the company reads what was learned; only managers revoke or set rules
    "findings:learning": row("company", "GET", *MEMBERS_READ),
    "findings:exception_detail": row("exception", "GET", *MEMBERS_READ),
    "findings:exception_revoke": row("exception", "POST", "login", 403, 403, 302, 404, data={"reason": "Ya no"}),
    "findings:learning_threshold": row("company", "POST", "login", 403, 403, 302, 404, data={"hide_below": "0.1"}),
    "findings:proposal_accept": row("proposal", "POST", "login", 403, 403, 302, 404),
    "findings:fix_rule_create": row("company", "POST", "login", 403, 403, 302, 404,
                                    data={"finding_kind": "tax", "max_impact": "50000"}),
    "findings:fix_rule_off": row("fix_rule", "POST", "login", 403, 403, 302, 404),
    "findings:fix_rule_edit": row("fix_rule", "POST", "login", 403, 403, 302, 404,
                                  data={"max_impact": "80.000", "is_active": "on"}),
    "findings:request_hint": row("request", "GET", *MEMBERS_READ, htmx=True),
    # API tokens: everyone manages their own (the token revoked here is the accountant's)
    "api:tokens": row("company", "GET", *MEMBERS_READ),
    "api:token_revoke": row("token", "POST", "login", 302, 404, 404, 404),
    # outbound event subscriptions: managers only
    "api:subscriptions": row("company", "GET", "login", 403, 403, 200, 404),
    "api:delivery_redeliver": row("delivery", "POST", "login", 403, 403, 302, 404),
}


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name and namespace + pattern.name


def portal_urls() -> dict[str, str]:
    return {name: route for route, name in _walk(get_resolver().url_patterns)
            if not any(route.startswith(prefix) for prefix in EXEMPT_PREFIXES)}


def test_every_url_has_a_row():
    urls = portal_urls()
    unnamed = [route for name, route in urls.items() if name is None]
    missing = sorted(set(urls) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(urls))
    assert not unnamed, f"URLs without a name cannot be checked: {unnamed}"
    assert not missing, f"URLs without a row in the authorization matrix: {missing}"
    assert not stale, f"rows for URLs that no longer exist: {stale}"


@pytest.fixture
def world(company, other_company):
    mirror_catalogue(company)
    invoice = make_invoice(company)
    people = {
        "accountant": make_user("ana", company, "accountant"),
        "approver": make_user("pedro", company, "approver"),
        "manager": make_user("maria", company, "manager"),
        "outsider": make_user("olga", other_company, "manager"),
    }
    proposed = copy.deepcopy(invoice.document)
    proposed["observations"] = "Nota"
    change_request = request_services.request_save_and_submit(
        invoice=invoice, user=people["accountant"], proposed=proposed, reason="Porque sí", kind="update")
    request_submitted(change_request=change_request)
    # A sync "running": starting another one answers without queuing work that would call out.
    SyncRun.objects.create(company=company, kind="full")
    finding = Finding.objects.create(
        company=company, invoice=invoice, line=0, kind="price", cause="slip", fingerprint="f",
        invoice_date=invoice.date, severity="high", rank=3, confidence="0.95", client_alegra_id="1",
        item_alegra_id="1", evidence={"price": "400", "reference": "40", "basis": "client", "n": 4, "ratio": "10"},
        suggestion={"type": "update", "changes": [{"line": 0, "field": "price", "from": "400", "to": "40"}]})
    exception = LearnedException.objects.create(
        company=company, kind="price", client_alegra_id="1", item_alegra_id="1", scope={"price": "400"},
        taught_by=people["accountant"], taught_at=timezone.now(), reason="Pactado")
    fix_rule = AutoApprovalRule.objects.create(company=company, name="Impuestos", kind="finding_fix", is_active=True,
                                               finding_kind="tax", max_impact=50000)
    return {
        "company": company, "invoice": invoice, "request": change_request, "people": people,
        "policy": RoutingPolicy.objects.create(company=company, name="Una"),
        "delivery": _delivery(company, people["manager"]),
        "token": token_create(user=people["accountant"], company=company, name="ERP",
                              scopes="invoices:read")[0],
        "rule": AutoApprovalRule.objects.create(company=company, name="Notas", kind="notes_only"),
        "finding": finding, "exception": exception, "fix_rule": fix_rule,
    }


def _delivery(company, manager):
    from api.models import EventDelivery
    from api.outbound import subscription_create

    subscription = subscription_create(company=company, user=manager, url="https://hooks.example.com/x",
                                       events=["finding.created"])
    return EventDelivery.objects.create(subscription=subscription, message_id="msg_matrix", event="finding.created",
                                        payload={}, state="failed")


def _kwargs(target: str, world) -> dict:
    company = world["company"]
    if target == "none":
        return {}
    if target == "company":
        return {"company_id": company.pk}
    if target == "webhook":
        return {"company_id": company.pk, "secret": company.webhook_secret}
    if target == "proposal":
        return {"company_id": company.pk, "kind": "due_date"}
    if target == "export":
        return {"company_id": company.pk, "fmt": "csv"}
    if target == "version":
        invoice = world["invoice"]
        return {"company_id": company.pk, "pk": invoice.pk,
                "history_id": invoice.history.order_by("history_id").values_list("history_id", flat=True)[0]}
    return {"company_id": company.pk, "pk": world[target].pk}


@pytest.mark.django_db
def test_the_matrix(client, world, django_capture_on_commit_callbacks):
    """Each call runs in a savepoint rolled back afterwards: every visitor meets the same state."""
    client.raise_request_exception = False  # a server error is a status like any other here
    wrong = []
    for name in sorted(MATRIX):
        spec = MATRIX[name]
        path = reverse(name, kwargs=_kwargs(spec.target, world))
        headers = {"HTTP_HX_REQUEST": "true"} if spec.htmx else {}
        for visitor, expected in zip(VISITORS, spec.statuses):
            with transaction.atomic(), django_capture_on_commit_callbacks(execute=False):
                client.logout()
                if visitor != "anonymous":
                    client.force_login(world["people"][visitor])
                response = client.generic(spec.method, path, data=urlencode(spec.data),
                                          content_type="application/x-www-form-urlencoded", **headers)
                transaction.set_rollback(True)
            if expected == "login":
                ok = response.status_code == 302 and response["Location"].startswith(reverse("login"))
            else:
                ok = response.status_code == expected
            if not ok:
                wrong.append(f"{spec.method} {path} as {visitor}: expected {expected}, got {response.status_code}")
    assert not wrong, "\n".join(wrong)
