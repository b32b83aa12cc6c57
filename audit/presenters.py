"""What the audit pages and exports show of an entry, shaped so templates only loop and print."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from approvals.models import ApprovalSettings, AutoApprovalRule, ChangeRequest, Decision, Push, RoutingPolicy
from approvals.routing import policy_label
from approvals.presenters import HEADER_LABELS
from findings.models import Finding
from invoices import vocabulary
from portal import events, formats
from portal.models import Company

from .models import Action

ACTION_LABELS = dict(Action.choices)
REQUEST_STATES = dict(ChangeRequest.State.choices)
PUSH_STATES = dict(Push.State.choices)
OUTCOMES = dict(Decision.Outcome.choices)
TONES = {
    Action.REMOTE_CHANGE: "remote", Action.CONFLICT: "bad", Action.FAILED: "bad",
    Action.LOGIN_FAILED: "bad", Action.LOGIN_LOCKED_OUT: "bad", Action.REJECTED: "bad", Action.PUSHED: "good",
    Action.APPROVED: "good", Action.AUTO_APPROVED: "good",
}
MAX_FACT = 300


@dataclass
class EntryView:
    seq: int
    at: datetime.datetime  # in the company's time zone
    action: str
    action_label: str
    who: str
    behalf: str
    is_system: bool
    why: str
    invoice_id: int | None
    invoice_number: str
    change_request_id: int | None
    source: str
    source_id: int | None
    hash: str
    tone: str = ""
    facts: list[str] = field(default_factory=list)
    # For a change request's own entries, the state it reached (audit.stories places them by it).
    request_state: str = ""
    # On an invoice's timeline, for the entries that are versions of it:
    version_number: int | None = None
    previous_version: int | None = None
    is_current_version: bool = False
    # What the invoice timeline prints of it (audit.timeline).
    line: dict | None = None


def person_name(username: str | None, first: str | None, last: str | None, active: bool | None = True) -> str:
    if not username:
        return ""
    name = f"{first or ''} {last or ''}".strip() or username
    return name if active is not False else _("%(name)s (deactivated)") % {"name": name}


LINE_FIELD_LABELS = {
    "price": gettext_lazy("unit price"), "quantity": gettext_lazy("quantity"), "discount": gettext_lazy("discount"),
    "tax": gettext_lazy("taxes"), "description": gettext_lazy("description"), "reference": gettext_lazy("reference"),
    "name": gettext_lazy("item"), "id": gettext_lazy("item"), "item": gettext_lazy("item"),
    "total": gettext_lazy("total"), "order": gettext_lazy("order"),
}
# Who acted for the system, in the reader's words ("vía scan" was the code itself).
BEHALF_LABELS = {
    "push": gettext_lazy("the push to Alegra"), "scan": gettext_lazy("the anomaly scan"),
    "sync": gettext_lazy("the sync"), "system": gettext_lazy("the system"), "webhook": gettext_lazy("Alegra's notice"),
    "remote": gettext_lazy("a change in Alegra"), "api": gettext_lazy("the API"),
}


def field_label(name: str) -> str:
    if name.startswith("items."):
        part = name.removeprefix("items.")
        return {"added": _("line added"), "removed": _("line removed")}.get(
            part, _("lines: %(field)s") % {"field": str(LINE_FIELD_LABELS.get(part) or HEADER_LABELS.get(part, part))})
    if name in ("items", "lines"):
        return _("lines")
    return str(HEADER_LABELS.get(name, name))


def behalf_label(code: str) -> str:
    if code.startswith("policy "):
        return _("the policy “%(name)s”") % {"name": policy_label(code.removeprefix("policy "))}
    return str(BEHALF_LABELS.get(code, code)) if code else ""


def _policy_field(name: str):
    for model in (RoutingPolicy, AutoApprovalRule, ApprovalSettings):
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
    return None


def _policy_field_label(name: str) -> str:
    found = _policy_field(name)
    return str(found.verbose_name) if found is not None else name


def _policy_value(name: str, value: Any, country: str) -> str:
    """A policy field's value as the reader says it: yes or no, a choice's words, a number as the
    company writes it (the stored True, "update" or 1234567.5 were shown as such)."""
    found = _policy_field(name)
    if found is not None and found.choices and value in dict(found.flatchoices):
        return _short(dict(found.flatchoices)[value])  # "" too, where it is a choice ("Any kind")
    if value is None or value == "" or found is None:
        return _short(value) if value not in (None, "") else "—"
    if found.get_internal_type() == "BooleanField":
        return _("yes") if value in (True, "True", "true", 1) else _("no")
    if found.get_internal_type() in ("DecimalField", "PositiveIntegerField", "PositiveSmallIntegerField",
                                     "IntegerField"):
        try:
            return formats.number(value, country)
        except (TypeError, ValueError, ArithmeticError):
            return _short(value)
    return _short(value)


def _short(text: Any) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= MAX_FACT else text[:MAX_FACT - 1] + "…"


def _version_facts(what: dict, company: Company) -> list[str]:
    def money(value):
        return formats.money(value, company.decimal_precision, company.country)

    facts = []
    if what.get("contact"):
        facts.append(_("contact %(name)s") % {"name": what["contact"]})
    if what.get("deleted"):
        facts.append(_("deleted in Alegra"))
    if "status_before" in what:
        facts.append(_("status %(before)s → %(after)s") % {
            "before": vocabulary.label("status", what["status_before"]) or "—",
            "after": vocabulary.label("status", what.get("status")) or "—"})
    if "total_before" in what:
        facts.append(_("total %(before)s → %(after)s") % {"before": money(what["total_before"]),
                                                         "after": money(what.get("total"))})
    if what.get("changes"):
        facts.append(_("changed: %(fields)s") % {"fields": ", ".join(field_label(f) for f in what["changes"])})
    if "changes" not in what and not what.get("contact"):
        facts.append(_("first version, total %(total)s") % {"total": money(what.get("total"))})
    return facts


def _request_facts(action: str, what: dict, company: Company) -> list[str]:
    facts = [_("request #%(number)s") % {"number": what.get("request")}]
    if "state_before" in what:
        facts.append(_("%(before)s → %(after)s") % {
            "before": REQUEST_STATES.get(what["state_before"], what["state_before"]),
            "after": REQUEST_STATES.get(what.get("state"), what.get("state"))})
    if what.get("changes"):
        facts.append(_("changes: %(fields)s") % {"fields": ", ".join(field_label(f) for f in what["changes"])})
    if action in (Action.CREATED, Action.SUBMITTED) and what.get("old_total") != what.get("new_total"):
        facts.append(_("total %(before)s → %(after)s") % {
            "before": formats.money(what.get("old_total"), company.decimal_precision, company.country),
            "after": formats.money(what.get("new_total"), company.decimal_precision, company.country)})
    if what.get("reason"):
        facts.append(_("reason: %(reason)s") % {"reason": _short(what["reason"])})
    if action == Action.ROUTED:
        count = int(what.get("approvals_required") or 0)
        facts.append(ngettext("%(count)s approval needed, by %(policy)s",
                              "%(count)s approvals needed, by %(policy)s", count) % {
            "count": count, "policy": policy_label(what.get("routed_by")) or "—"})
    return facts


def _push_facts(what: dict, company: Company) -> list[str]:
    facts = [_("request #%(number)s") % {"number": what.get("request")},
             _("attempt %(n)s") % {"n": what.get("attempt", 0)}]
    if what.get("status") or what.get("code"):
        facts.append(_("Alegra answered %(status)s %(code)s") % {"status": what.get("status") or "",
                                                                "code": what.get("code") or ""})
    if what.get("message"):
        facts.append(_short(what["message"]))
    if what.get("conflict_fields"):
        facts.append(_("changed in Alegra: %(fields)s") % {
            "fields": ", ".join(field_label(f) for f in what["conflict_fields"])})
    if what.get("totals_mismatch"):
        facts.append(_("Alegra's total %(received)s differs from the expected %(expected)s") % {
            "received": formats.money(what.get("received_total"), company.decimal_precision, company.country),
            "expected": formats.money(what.get("expected_total"), company.decimal_precision, company.country)})
    if what.get("result_alegra_id"):
        facts.append(_("Alegra id %(id)s") % {"id": what["result_alegra_id"]})
    return facts


def _decision_facts(what: dict) -> list[str]:
    facts = [str(OUTCOMES.get(what.get("outcome"), what.get("outcome"))),
             _("request #%(number)s") % {"number": what.get("request")}]
    if what.get("rule"):
        facts.append(_("by the rule %(name)s") % {"name": what["rule"]})
    return facts


def _policy_facts(what: dict, company: Company) -> list[str]:
    model = {"routing_policy": _("Routing policy"), "auto_approval_rule": _("Auto-approval rule"),
             "approval_settings": _("Approval settings"),
             "learning_settings": _("Learning settings")}.get(what.get("model"), what.get("model"))
    kind = {"created": _("created"), "changed": _("changed"), "deleted": _("deleted")}.get(
        what.get("type"), what.get("type"))
    facts = [f"{model} “{policy_label(what.get('name'))}” {kind}" if what.get("name") else f"{model} {kind}"]
    for name, (before, after) in (what.get("changes") or {}).items():
        if name == "name":
            shown = [_short(policy_label(before)), _short(policy_label(after))]
        else:
            shown = [_policy_value(name, value, company.country) for value in (before, after)]
        facts.append(f"{_policy_field_label(name)}: {shown[0]} → {shown[1]}")
    return facts


def _finding_facts(what: dict) -> list[str]:
    facts = [_("finding #%(number)s") % {"number": what.get("finding")},
             str(dict(Finding.Kind.choices).get(what.get("kind"), what.get("kind")))]
    if what.get("line") is not None:
        facts.append(_("line %(line)s") % {"line": what["line"] + 1})
    if what.get("request"):
        facts.append(_("request #%(number)s") % {"number": what["request"]})
    if what.get("exception"):
        facts.append(_("learned exception #%(number)s") % {"number": what["exception"]})
    return facts


def _exception_facts(what: dict) -> list[str]:
    facts = [_("learned exception #%(number)s") % {"number": what.get("exception")},
             str(dict(Finding.Kind.choices).get(what.get("kind"), what.get("kind")))]
    if what.get("finding"):
        facts.append(_("from finding #%(number)s") % {"number": what["finding"]})
    if what.get("silenced") is not None:
        facts.append(_("%(n)s findings silenced until revoked") % {"n": what["silenced"]})
    return facts


def _session_facts(what: dict) -> list[str]:
    facts = [_("user name “%(name)s”") % {"name": what.get("username", "")}]
    if what.get("known_user") is False:
        facts.append(_("no such user"))
    if what.get("ip"):
        facts.append(_("from %(ip)s") % {"ip": what["ip"]})
    return facts


def facts_of(row: dict, company: Company) -> list[str]:
    what = row.get("what") or {}
    source, action = row["source"], row["action"]
    try:
        if source in ("invoice", "contact"):
            return _version_facts(what, company)
        if source == "change_request":
            return _request_facts(action, what, company)
        if source == "push":
            return _push_facts(what, company)
        if source == "decision":
            return _decision_facts(what)
        if source == "session":
            return _session_facts(what)
        if source == "finding":
            return _finding_facts(what)
        if source == "learned_exception":
            return _exception_facts(what)
        return _policy_facts(what, company)
    except (TypeError, ValueError, AttributeError):
        # An entry written by an older version of this code: show it raw rather than fail.
        return [_short(what)]


def _request_state(row: dict) -> str:
    what = row.get("what")
    return str(what.get("state") or "") if row["source"] == "change_request" and isinstance(what, dict) else ""


def entry_view(row: dict, company: Company, zone: zoneinfo.ZoneInfo) -> EntryView:
    who = person_name(row.get("actor__username"), row.get("actor__first_name"), row.get("actor__last_name"),
                      row.get("actor__is_active"))
    return EntryView(
        seq=row["seq"], at=timezone.localtime(row["at"], zone), action=row["action"],
        action_label=str(ACTION_LABELS.get(row["action"], row["action"])),
        who=who or _("System"), behalf=behalf_label(row.get("on_behalf_of") or ""), is_system=not who,
        why=events.describe(row.get("why")), invoice_id=row.get("invoice_id"),
        invoice_number=row.get("invoice__number") or "", change_request_id=row.get("change_request_id"),
        source=row["source"], source_id=row.get("source_id"), hash=row.get("hash") or "",
        tone=TONES.get(row["action"], ""), facts=facts_of(row, company),
        request_state=_request_state(row),
    )


def labelled_versions(versions: list[dict], zone: zoneinfo.ZoneInfo) -> list[dict]:
    for version in versions:
        when = timezone.localtime(version["history_date"], zone).strftime("%d/%m/%Y %H:%M")
        why = events.describe(version["history_change_reason"]) or "—"
        version["label"] = f"{version['number']} · {when} · {why[:40]}"
    return versions


def with_versions(entries: list[EntryView], versions: list[dict]) -> list[EntryView]:
    """Number the timeline's version entries and point each at the version before it."""
    by_id = {version["history_id"]: version for version in versions}
    for entry in entries:
        version = by_id.get(entry.source_id) if entry.source == "invoice" else None
        if version is None:
            continue
        entry.version_number = version["number"]
        entry.is_current_version = version["is_current"]
        if version["previous"] is not None:
            entry.previous_version = version["previous"]
    return entries


def picker_versions(versions: list[dict], latest: int | None, chosen: set[int]) -> list[dict]:
    """What the version pickers offer: the latest versions and the ones being compared."""
    if latest is None:
        return versions
    newest = versions[0]["number"] if versions else 0
    return [v for v in versions if v["number"] > newest - latest or v["history_id"] in chosen]


def version_options(versions: list[dict], chosen) -> str:
    """The <option>s of a version picker, built here rather than in a loop of tags."""
    chosen = str(chosen or "")
    return format_html_join("", '<option value="{}"{}>{}</option>', (
        (v["history_id"], mark_safe(" selected") if str(v["history_id"]) == chosen else "", v["label"])
        for v in versions))


def entry_views(rows: list[dict], company: Company, zone: zoneinfo.ZoneInfo) -> list[EntryView]:
    return [entry_view(row, company, zone) for row in rows]
