"""An invoice timeline's entries as the page prints them: every word and link worked out here, once.

A busy invoice's page holds fifty entries; a template that translates, formats and reverses
inside each of them spends most of the page's time doing the same work fifty times. Here the
page's words are translated once (`labels`), the times are written by portal.formats, and each
entry gets its `html`, which the template prints.
"""

from __future__ import annotations

import zoneinfo

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
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
               zone: zoneinfo.ZoneInfo, csrf_token: str) -> list[EntryView]:
    version, via, words = _("Version %(n)s"), _("via %(source)s"), labels()
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
            entry.html = _html(entry.line, words, csrf_token)
    return entries


def _html(line: dict, words: dict[str, str], csrf_token: str) -> SafeString:
    """The entry's <li>, built here as the version pickers' options are: fifty entries through
    the template's tags cost more than the rest of the page. Spaces stand where the markup of
    the page had line breaks, so it reads the same."""
    parts = [format_html('<li class="{}" data-action="{}" data-seq="{}"> <span class="when">{}</span> ',
                         line["css"], line["action"], line["seq"], line["when"])]
    if line["version"]:
        parts.append(format_html("<strong>{}</strong> · ", line["version"]))
    parts.append(format_html("<strong>{}</strong>", line["action_label"]))
    if line["bypassed"]:
        parts.append(format_html(' <span class="pill conflict">{}</span>', words["bypassed"]))
    parts.append(format_html(" · {}", line["who"]) if line["who"]
                 else format_html(' · <span class="muted">{}</span>', words["system"]))
    if line["behalf"]:
        parts.append(format_html(' <span class="muted">({})</span>', line["behalf"]))
    if line["request_url"]:
        parts.append(format_html(' · <a href="{}">{} #{}</a>', line["request_url"], words["request"],
                                 line["request_id"]))
    if line["why"]:
        parts.append(format_html(' <div class="why">{}</div>', line["why"]))
    if line["facts"]:
        parts.append(format_html(' <div class="facts-line">{}</div>', line["facts"]))
    if line["tools"]:
        parts.append(mark_safe(' <div class="tools">'))
        if line["compare"]:
            parts.append(format_html(' <a href="{}#compare" hx-get="{}" hx-target="#compare" hx-swap="outerHTML" '
                                     'hx-push-url="true">{}</a>', line["compare"], line["compare"], words["compare"]))
        if line["restore_url"]:
            parts.append(format_html(
                ' <form method="post" action="{}" class="inline"><input type="hidden" name="csrfmiddlewaretoken" '
                'value="{}"> <button type="submit" data-testid="restore">{}</button></form>',
                line["restore_url"], csrf_token, words["restore"]))
        parts.append(mark_safe(" </div>"))
    parts.append(mark_safe(" </li>"))
    return mark_safe("".join(parts))
