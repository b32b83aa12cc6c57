"""Spanish is the default language; English on request; the catalogue is complete."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_speak_spanish_by_default_and_english_on_request(client, accountant, company, settings):
    settings.LANGUAGE_CODE = "es"  # the project's default; other tests read English
    client.force_login(accountant)
    url = reverse("invoices:invoice_list", args=[company.pk])
    assert "Facturas" in client.get(url).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": url})
    assert ">Invoices<" in client.get(url).content.decode()


def test_every_message_has_a_spanish_translation():
    import gettext

    catalogue = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"
    text = catalogue.read_text(encoding="utf-8")
    # An entry without a translation ends with msgstr "" followed by a blank line.
    untranslated = [block for block in text.split("\n\n")[1:]
                    if 'msgstr ""' in block and block.rstrip().endswith('msgstr ""') and "fuzzy" not in block]
    assert untranslated == []
    mo = catalogue.with_suffix(".mo")
    assert mo.stat().st_mtime >= catalogue.stat().st_mtime - 5
    assert gettext.GNUTranslations(mo.open("rb")).gettext("Invoices") == "Facturas"


def test_service_messages_follow_the_active_language(company):
    from django.utils import translation

    from invoices.rules import validate_document

    doc = {"date": "2026-10-12", "dueDate": "2026-10-01", "items": []}
    with translation.override("es"):
        spanish = {v.message for v in validate_document(doc, taxes=set())}
    with translation.override("en"):
        english = {v.message for v in validate_document(doc, taxes=set())}
    assert any("no puede ser anterior" in m for m in spanish)
    assert any("cannot be before" in m for m in english)
