"""An invoice timeline's entries as the page prints them: every word and link worked out here, once.

A busy invoice's page holds fifty entries; a template that translates, formats and reverses
inside each of them spends most of the page's time doing the same work fifty times. Here the
page's words are translated once (`labels`), the times are written by portal.formats, and each
entry gets a `line` of plain values the template only prints.
"""

from __future__ import annotations

import zoneinfo

from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from portal import formats

from .models import Action
from .presenters import EntryView

WHY_CHARS = 400


def labels() -> dict[str, str]:
    """The words every entry may show, in the reader's language."""
    return {"bypassed": _("bypassed approval"), "system": _("System"), "request": _("request"),
            "compare": _("Compare with the previous version"), "restore": _("Restore this version")}


def with_lines(entries: list[EntryView], *, company_id: int, invoice_id: int, can_restore: bool,
               zone: zoneinfo.ZoneInfo) -> list[EntryView]:
    version, via = _("Version %(n)s"), _("via %(source)s")
    with timezone.override(zone):
        for entry in entries:
            is_version = bool(entry.version_number)
            entry.line = {
                "css": f"{'version ' if entry.source == 'invoice' else ''}tone-{entry.tone or 'none'}",
                "action": entry.action, "seq": str(entry.seq), "when": formats.datetime(entry.at, seconds=True),
                "version": version % {"n": entry.version_number} if is_version else "",
                "action_label": entry.action_label, "bypassed": entry.action == Action.REMOTE_CHANGE,
                "who": "" if entry.is_system else entry.who,
                "behalf": via % {"source": entry.behalf} if entry.behalf else "",
                "request_id": entry.change_request_id or "",
                "request_url": reverse("approvals:request_detail", args=[company_id, entry.change_request_id])
                if entry.change_request_id else "",
                "why": Truncator(entry.why).chars(WHY_CHARS) if entry.why else "",
                "facts": " · ".join(entry.facts),
                "tools": is_version,
                "compare": f"?a={entry.previous_version}&b={entry.source_id}"
                if is_version and entry.previous_version else "",
                "restore_url": reverse("audit:invoice_restore", args=[company_id, invoice_id, entry.source_id])
                if is_version and can_restore and not entry.is_current_version else "",
            }
    return entries
