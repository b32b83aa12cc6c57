"""Every portal URL × hostile values in every field any page has → never a server error.

The URLs and the world they act on are the authorization matrix's. Each URL is called by the
first of its visitors who may use it, with every field name found on the portal's pages (and
the matrix row's own) set to one hostile value at a time, by GET and by its own method. A NUL
or a lone surrogate anywhere is refused with a 400 that says so and changes nothing.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.db import transaction
from django.urls import reverse

from approvals.models import ChangeRequest, RoutingPolicy
from audit.models import AuditEntry
from tests.approvals.test_authz_matrix import MATRIX, VISITORS, _kwargs, world  # noqa: F401 (fixture)

HOSTILE = {
    "nul": "12\x00",
    "lone surrogate": "a\ud800b",
    "huge number": "9" * 400,
    "huge exponent": "1e999999",
    "negative huge": "-1e309",
    "not a number": "NaN",
    "infinity": "Infinity",
    "wrong type": "[]",
    "json object": '{"a": 1}',
    "empty": "",
    "very long text": "x" * 20_000,
}
REFUSED = ("NUL character", "lone surrogate")
FIELD = re.compile(r'name="([^"]{1,80})"')


def _encoded(fields: list[str], value: str) -> str:
    """A form body as a browser would send it; a lone surrogate goes as its UTF-8-like bytes."""
    raw = value.encode("utf-8", "surrogatepass")
    return "&".join(f"{quote(name)}={quote(raw)}" for name in fields)


def _visitor(statuses) -> str | None:
    for visitor, expected in zip(VISITORS, statuses):
        if visitor != "anonymous" and expected not in (403, 404, "login"):
            return visitor
    return "anonymous" if statuses[0] not in (403, 404, "login") else None


def _state() -> tuple:
    return (AuditEntry.objects.count(), ChangeRequest.objects.count(), RoutingPolicy.objects.count())


@pytest.fixture
def field_names(client, world):
    """Every input name on the pages the matrix reaches by GET, as its visitors see them."""
    names = {"company_id", "pk", "id"}
    for name, spec in MATRIX.items():
        visitor = _visitor(spec.statuses)
        if spec.method != "GET" or visitor is None:
            continue
        client.logout()
        if visitor != "anonymous":
            client.force_login(world["people"][visitor])
        response = client.get(reverse(name, kwargs=_kwargs(spec.target, world)),
                              **({"HTTP_HX_REQUEST": "true"} if spec.htmx else {}))
        if response.status_code == 200 and not getattr(response, "streaming", False):
            names.update(FIELD.findall(response.content.decode()))
    return sorted(names)


@pytest.mark.django_db
@pytest.mark.slow
def test_no_url_answers_a_server_error_to_hostile_values(client, world, field_names,
                                                         django_capture_on_commit_callbacks):
    client.raise_request_exception = False
    failures = []
    for name in sorted(MATRIX):
        spec = MATRIX[name]
        visitor = _visitor(spec.statuses)
        if visitor is None:
            continue
        path = reverse(name, kwargs=_kwargs(spec.target, world))
        headers = {"HTTP_HX_REQUEST": "true"} if spec.htmx else {}
        fields = sorted({*field_names, *spec.data})
        for label, value in HOSTILE.items():
            for method in sorted({"GET", spec.method}):
                body = _encoded(fields, value)
                with transaction.atomic(), django_capture_on_commit_callbacks(execute=False):
                    client.logout()
                    if visitor != "anonymous":
                        client.force_login(world["people"][visitor])
                    before = _state()
                    if method == "GET":
                        response = client.get(f"{path}?{body}", **headers)
                    else:
                        response = client.generic(method, path, data=body,
                                                  content_type="application/x-www-form-urlencoded", **headers)
                    after = _state()
                    transaction.set_rollback(True)
                where = f"{method} {path} as {visitor} with {label}"
                # /ready/ answers 503 by design while the scheduler has not run (as in tests).
                not_ready = name == "operations:ready" and response.status_code == 503
                if response.status_code >= 500 and not not_ready:
                    failures.append(f"{where}: {response.status_code}")
                elif label == "nul":
                    text = response.content.decode(errors="replace")
                    if response.status_code != 400 or "NUL character" not in text or after != before:
                        failures.append(f"{where}: {response.status_code}, changed: {after != before}")
    assert not failures, "\n".join(failures)


def test_a_nul_in_a_field_of_the_edit_form_is_refused_and_changes_nothing(client, world):
    """What the fuzz found first: a NUL in base_hash or client was a database error (500)."""
    client.force_login(world["people"]["accountant"])
    invoice = world["invoice"]
    before = _state()
    for field in ("base_hash", "client", "reason"):
        response = client.post(reverse("approvals:invoice_edit", args=[world["company"].pk, invoice.pk]),
                               {"reason": "Porque sí", field: "abc\x00def"})
        assert response.status_code == 400
        assert "NUL character" in response.content.decode()
    assert _state() == before


def test_the_message_is_in_the_reader_s_language(client, world):
    client.force_login(world["people"]["accountant"])
    response = client.get(reverse("invoices:invoice_list", args=[world["company"].pk]) + "?q=%00",
                          HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "carácter NUL" in response.content.decode() and "No se cambió nada" in response.content.decode()


def test_a_forged_page_cursor_with_a_nul_is_the_first_page(client, world):
    """The list's cursor is base64 JSON: a NUL inside it is past the middleware's reach."""
    from invoices.queries import encode_cursor

    client.force_login(world["people"]["accountant"])
    url = reverse("invoices:invoice_list", args=[world["company"].pk])
    response = client.get(url, {"sort": "number", "after": encode_cursor("FE\x001", 1)})
    assert response.status_code == 200
    assert response.context["page"].rows == client.get(url, {"sort": "number"}).context["page"].rows


@pytest.mark.parametrize("where", ["GET", "POST", "key"])
def test_a_lone_surrogate_that_reaches_the_request_is_refused(where):
    """WSGI turns broken UTF-8 into U+FFFD; other servers and tools may hand a surrogate through."""
    from django.http import HttpResponse, QueryDict
    from django.test import RequestFactory

    from portal.middleware import RefuseUnstorableInputMiddleware

    request = RequestFactory().post("/c/1/invoices/", {"q": "ok"})
    values = QueryDict(mutable=True)
    if where == "key":
        values["a\udc80"] = "x"
    else:
        values["q"] = "a\ud800b"
    if where == "GET":
        request.GET = values
    else:
        request._post, request._files = values, QueryDict()
    reached = []
    response = RefuseUnstorableInputMiddleware(lambda r: reached.append(r) or HttpResponse("ok"))(request)
    assert response.status_code == 400 and reached == []
    assert "lone surrogate" in response.content.decode()
