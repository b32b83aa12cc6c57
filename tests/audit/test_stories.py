"""The audit log and the invoice timeline read as stories: a request's entries in one group, one line per
step (proposed → routed → decided → sent → applied), the raw entries behind a disclosure; in both languages,
at a constant number of queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from approvals.models import ChangeRequest
from approvals.services.decisions import request_decide
from approvals.services.policies import policies_ensure_defaults
from audit import services
from audit.models import AuditEntry
from tests.approvals.pushkit import mirrored_invoice, submit, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

STORY = re.compile(r'data-testid="story" data-request="(\d+)"')
STAGES = re.compile(r'data-stage="(\w+)"')


def applied(world, django_capture_on_commit_callbacks, invoice=None, outcome="approve"):  # noqa: F811
    """A request submitted, decided and (when approved) pushed to the sandbox and applied."""
    change_request = submit(invoice or world.invoice, world.accountant, observations="Entregar en bodega 2")
    with django_capture_on_commit_callbacks(execute=True):
        request_decide(change_request=change_request, user=world.approver, outcome=outcome,
                       comment="De acuerdo" if outcome == "approve" else "No procede")
    change_request.refresh_from_db()
    return change_request


def story_of(html: str, number: int) -> str:
    start = html.index(f'data-testid="story" data-request="{number}"')
    end = html.find('data-testid="story"', start + 10)
    return html[start:end if end > 0 else len(html)]


@pytest.fixture
def told(world, in_process_http, django_capture_on_commit_callbacks):  # noqa: F811
    policies_ensure_defaults(company=world.company)
    change_request = applied(world, django_capture_on_commit_callbacks)
    assert change_request.state == ChangeRequest.State.APPLIED
    return change_request


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["Proposed", "Routed to approvers", "Approved", "Sent to Alegra", "Applied in Alegra",
            "1 approval needed", "“De acuerdo”", "Raw entries (10)"]),
    ("es", ["Propuesta", "Asignada a aprobadores", "Aprobada", "Enviada a Alegra", "Aplicada en Alegra",
            "1 aprobación requerida", "“De acuerdo”", "Entradas originales (10)"]),
])
def test_the_log_tells_a_request_as_one_story_with_its_raw_entries_behind_a_disclosure(
        client, world, told, language, words):  # noqa: F811
    client.force_login(world.manager)
    with translation.override(language):
        html = client.get(reverse("audit:audit_log", args=[world.company.pk]),
                          HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert STORY.findall(html) == [str(told.pk)]
    story = story_of(html, told.pk)
    assert STAGES.findall(story) == ["proposed", "routed", "decided", "sent", "applied"]
    for word in words:
        assert word in story, word
    raw = story[story.index("<details"):story.index("</details>")]
    entries = AuditEntry.objects.filter(company=world.company, change_request_id=told.pk).exclude(source="invoice")
    assert raw.count("data-seq=") == entries.count() == 10
    # Entries of no request (the invoice's versions, logins) stay lines of their own, outside any story.
    versions = AuditEntry.objects.filter(company=world.company, source="invoice").values_list("seq", flat=True)
    outside = html[:html.index('data-testid="story"')] + html[html.index("</details>"):]
    assert all(f'data-seq="{seq}"' in outside for seq in versions)


def test_a_rejected_request_ends_its_story_at_the_decision(client, world, in_process_http,  # noqa: F811
                                                           django_capture_on_commit_callbacks):
    rejected = applied(world, django_capture_on_commit_callbacks, outcome="reject")
    client.force_login(world.manager)
    html = client.get(reverse("audit:audit_log", args=[world.company.pk])).content.decode()
    story = story_of(html, rejected.pk)
    assert STAGES.findall(story) == ["proposed", "routed", "decided"]
    assert "Rejected" in story and "“No procede”" in story


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["Request #", "Proposed", "Applied in Alegra", "Raw entries (10)"]),
    ("es", ["Solicitud #", "Propuesta", "Aplicada en Alegra", "Entradas originales (10)"]),
])
def test_the_invoice_timeline_groups_by_request_too(client, world, told, language, words):  # noqa: F811
    client.force_login(world.accountant)
    with translation.override(language):
        html = client.get(reverse("audit:invoice_timeline", args=[world.company.pk, world.invoice.pk]),
                          HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert STORY.findall(html) == [str(told.pk)]
    story = story_of(html, told.pk)
    assert STAGES.findall(story) == ["proposed", "routed", "decided", "sent", "applied"]
    for word in words:
        assert word in story, word
    # The version the push wrote stays a version of its own, with its tools.
    pushed = AuditEntry.objects.get(company=world.company, source="invoice", action="pushed_version")
    assert f'<li class="version tone-none" data-action="pushed_version" data-seq="{pushed.seq}">' in \
        html[html.index("</details>"):]


def test_the_log_of_stories_costs_the_same_queries_with_one_request_or_many(
        client, world, in_process_http, django_capture_on_commit_callbacks):  # noqa: F811
    policies_ensure_defaults(company=world.company)
    applied(world, django_capture_on_commit_callbacks)
    client.force_login(world.manager)
    url = reverse("audit:audit_log", args=[world.company.pk])
    client.get(url)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            html = client.get(url).content.decode()
        return len(captured), len(STORY.findall(html))

    one = queries()
    for _ in range(4):
        applied(world, django_capture_on_commit_callbacks, invoice=mirrored_invoice(world.company, world.account))
    services.chain_verify(company_id=world.company.pk)
    many = queries()
    # session, user, memberships, people to filter by, the page, the badge: grouping reads nothing more
    assert one == (6, 1) and many[0] == 6 and many[1] > 1
