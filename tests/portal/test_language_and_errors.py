"""One language per screen: Alegra's codes and the system's names told in the reader's language;
error pages in the portal's layout, with DEBUG off and on."""

import logging

import pytest
from django.utils import translation

from approvals.routing import policy_label
from audit.presenters import behalf_label, field_label
from invoices import vocabulary
from portal import events
from tests.factories import make_company, make_user


@pytest.mark.parametrize(("language", "expected"), [
    ("es", ["Crédito", "Tarjeta débito", "emitida y aceptada", "Abierta"]),
    ("en", ["Credit", "Debit card", "stamped and accepted", "Open"]),
])
def test_alegras_codes_as_words(language, expected):
    with translation.override(language):
        assert [vocabulary.label("paymentForm", "CREDIT"), vocabulary.label("paymentMethod", "DEBIT-CARD"),
                vocabulary.label("legalStatus", "STAMPED_AND_ACCEPTED"), vocabulary.label("status", "open")] == expected
        assert vocabulary.label("paymentMethod", "NEW-THING") == "NEW-THING"  # unknown: as Alegra wrote it


def test_default_policy_names_whichever_language_stored_them():
    with translation.override("en"):
        assert policy_label("Todo cambio") == "Every change" == policy_label("Every change")
        assert policy_label("Mi política") == "Mi política"
    with translation.override("es"):
        assert policy_label("Every change") == "Todo cambio"
        reason = events.reason("route.policy", policy="Every change", conditions=[], approvals=1, manager=False)
        assert "Todo cambio" in events.describe(reason)


def test_audit_words_for_line_fields_and_system_actors():
    with translation.override("es"):
        assert field_label("items.price") == "líneas: precio unitario"
        assert behalf_label("push") == "el envío a Alegra" and behalf_label("scan") == "el análisis de anomalías"


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_error_pages_in_the_layout_and_language(client, settings, debug, caplog):
    settings.DEBUG = debug
    company = make_company()
    client.force_login(make_user("ana", company, "accountant"))
    client.cookies["django_language"] = "es"
    with caplog.at_level(logging.WARNING, logger="django.request"):
        forbidden = client.get(f"/c/{company.pk}/audit/")
    assert forbidden.status_code == 403
    html = forbidden.content.decode()
    assert 'class="topbar"' in html and "Esta página no corresponde a su rol" in html
    assert not any(record.exc_info for record in caplog.records)  # one line, no traceback
    for path in (f"/c/{company.pk}/invoices/999999/", "/no/such/page/"):
        missing = client.get(path)
        assert missing.status_code == 404 and "Página no encontrada" in missing.content.decode()
    client.cookies["django_language"] = "en"
    assert "Page not found" in client.get("/no/such/page/").content.decode()
