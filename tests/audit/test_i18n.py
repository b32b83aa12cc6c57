"""The audit screens speak Spanish by default: every message of the audit catalogue is translated."""

import gettext
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "audit" / "locale" / "es" / "LC_MESSAGES" / "django.po"


def test_every_audit_message_has_a_spanish_translation_and_the_compiled_file_is_current():
    text = CATALOGUE.read_text(encoding="utf-8")
    untranslated = [block for block in text.split("\n\n")[1:]
                    if block.rstrip().endswith('msgstr ""') or "fuzzy" in block]
    assert untranslated == []
    compiled = gettext.GNUTranslations(CATALOGUE.with_suffix(".mo").open("rb"))
    assert compiled.gettext("Changed directly in Alegra") == "Cambiada directamente en Alegra"
    assert compiled.gettext("Restore the version on the left") == "Restaurar la versión de la izquierda"
