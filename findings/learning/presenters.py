"""Learning in words, in the reader's language: what an exception accepts, what a raised finding
went against, and the names of the detectors whose precision is learned."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal import formats

from ..models import Finding
from ..presenters import amount
from . import exceptions

CAUSES = {
    ("price", "slip"): lambda: _("typing slip (a zero too many or missing)"),
    ("price", "other_item"): lambda: _("the price of another item"),
    ("price", "unusual"): lambda: _("far from the usual price"),
    ("tax", "catalogue"): lambda: _("not the catalogue's tax"),
    ("tax", "client"): lambda: _("not this client's usual tax"),
    ("quantity", "slip"): lambda: _("typing slip"),
    ("quantity", "unusual"): lambda: _("far above the usual quantity"),
    ("discount", "above_usual"): lambda: _("above the client's usual"),
    ("due_terms", "habit"): lambda: _("off the client's habit"),
    ("due_terms", "contact"): lambda: _("off the contact's terms"),
    ("empty", "no_lines"): lambda: _("no lines"),
    ("empty", "zero_total"): lambda: _("zero total"),
    ("missing_identification", "blank"): lambda: _("blank"),
    ("missing_identification", "placeholder"): lambda: _("placeholder"),
}


def detector_name(kind: str, cause: str) -> str:
    label = str(dict(Finding.Kind.choices).get(kind, kind))
    detail = CAUSES.get((kind, cause))
    return f"{label}: {detail()}" if detail else label


def _day(value) -> str:
    return formats.date(value) or "—"


def accepted_text(kind: str, scope: Mapping, country: str = "CO") -> str:
    """What a learned exception accepts, in words."""
    key, _item = exceptions.LEARNABLE.get(kind, ("", False))
    value = scope.get(key)
    if kind == "price":
        return _("a unit price of about %(value)s") % {"value": amount(value, country)}
    if kind == "tax":
        return _("a tax of %(value)s %%") % {"value": amount(value, country)}
    if kind == "quantity":
        return _("quantities up to %(value)s") % {"value": amount(Decimal(str(value)) * exceptions.QUANTITY_MARGIN,
                                                                   country)}
    if kind == "discount":
        return _("discounts up to %(value)s %%") % {"value": amount(value, country)}
    if kind == "due_terms":
        return _("payment terms of %(value)s days") % {"value": value}
    if kind == "duplicate_lines":
        return _("the same order repeated, for a total of %(value)s") % {"value": amount(value, country)}
    if kind == "missing_identification":
        return _("the identification “%(value)s”") % {"value": value or "—"}
    return ""


def _because(kind: str, scope: Mapping, evidence: Mapping, country: str) -> str:
    key, _item = exceptions.LEARNABLE.get(kind, ("", False))
    accepted, seen = exceptions.number(scope.get(key)), exceptions.number(evidence.get(key))
    if kind in ("price", "quantity") and accepted and seen is not None:
        return _("%(value)s is %(ratio)s× that") % {"value": amount(seen, country),
                                                    "ratio": amount((seen / accepted).quantize(Decimal("0.1")),
                                                                    country)}
    if kind == "missing_identification":
        return _("this invoice's is “%(value)s”") % {"value": evidence.get(key) or "—"}
    return _("this one is %(value)s") % {"value": amount(seen, country) if seen is not None else "—"}


def went_against(finding: Finding, index: exceptions.Index, country: str = "CO") -> list[str]:
    """For a raised finding: each learned exception of its kind and scope that did not cover it,
    and why ("flagged although … was accepted for this client on 3 March, because …")."""
    texts = []
    for rule in index.near(finding.kind, finding.client_alegra_id, finding.item_alegra_id):
        if finding.silenced_by_id == rule.pk:
            continue
        texts.append(_("Flagged although %(accepted)s was accepted for this client on %(date)s (learned "
                       "exception #%(number)s), because %(because)s.") % {
            "accepted": accepted_text(rule.kind, rule.scope, country), "date": _day(rule.taught_at),
            "number": rule.pk, "because": _because(rule.kind, rule.scope, finding.evidence or {}, country)})
    return texts


def percent(value) -> str:
    """A share as a percentage, half-up, as the company writes numbers: 0.873 → "87 %",
    0.125 → "12,5 %", 0.004 → "0,4 %" (a share above nothing never reads "0 %")."""
    share = Decimal(str(value)) * 100
    places = 0 if share == share.to_integral_value() else 1
    shown = share.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    if share and not shown:
        places, shown = 2, share.quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{formats.number(shown, decimals=places)} %"


# --- rules history proposes, and the approver's hint -----------------------------------------


def proposal_name(p, country: str = "CO") -> str:
    if p.kind == "due_date":
        return _("Due date moved up to %(days)s days (from history)") % {"days": p.max_days}
    if p.kind == "small_discount":
        return _("Discounts up to %(discount)s %% (from history)") % {"discount": amount(p.max_discount, country)}
    if p.kind == "notes_only":
        return _("Only notes changed (from history)")
    return _("Only the client's address changed (from history)")


def proposal_evidence(p, country: str = "CO") -> str:
    values = {"n": p.count, "days": p.max_days, "discount": amount(p.max_discount, country),
              "impact": amount(p.max_impact, country)}
    if p.kind == "due_date":
        text = _("The last %(n)s requests that only moved the due date, by at most %(days)s days, were all "
                 "approved, and none moving it less was rejected.")
    elif p.kind == "small_discount":
        text = _("The last %(n)s requests that only changed line discounts, up to %(discount)s %% and an impact of "
                 "%(impact)s, were all approved, and none smaller was rejected.")
    elif p.kind == "notes_only":
        text = _("The last %(n)s requests that only changed notes or observations were all approved.")
    else:
        text = _("The last %(n)s requests that only changed a client's address were all approved.")
    return text % values


def hint_short(hint) -> str:
    """The hint in a few words, for a row of the inbox: "9 of 10 similar approved"."""
    n = len(hint.similar)
    return ngettext("%(approved)s of %(n)s similar approved", "%(approved)s of %(n)s similar approved",
                    n) % {"approved": hint.approved, "n": n}


def hint_text(hint, country: str = "CO") -> str:
    """"9 of the 10 similar requests were approved; the rejected one had a larger impact." """
    n = len(hint.similar)
    if not n:
        return _("No similar request was decided before: nothing to compare with.")
    text = ngettext("%(approved)s of the %(n)s similar request was approved",
                    "%(approved)s of the %(n)s similar requests were approved", n) % {"approved": hint.approved, "n": n}
    rejected = len(hint.rejected)
    reasons = []
    for code in hint.why_rejected():
        if code == "larger":
            reasons.append(ngettext("the rejected one had a larger impact", "the rejected ones had a larger impact",
                                    rejected))
        elif code == "smaller":
            reasons.append(ngettext("the rejected one had a smaller impact", "the rejected ones had a smaller impact",
                                    rejected))
        elif code == "other_requester":
            reasons.append(ngettext("the rejected one was asked by someone else",
                                    "the rejected ones were asked by someone else", rejected))
    if rejected and not reasons:
        reasons.append(ngettext("the rejected one looked like this one: read why it was refused",
                                "the rejected ones looked like this one: read why they were refused", rejected))
    return text + ("; " + ", ".join(reasons) if reasons else "") + "."


# --- a finding-fix rule a manager changed (the audit's words) ---------------------------------


def fix_rule_edited(params: Mapping) -> str:
    """The reason of a manager's change to a finding-fix rule, told in the reader's language (the
    amounts as the country being shown writes them)."""
    values = {"limit": amount(params.get("limit"), None), "was": amount(params.get("was_limit"), None)}
    moved = params.get("limit") != params.get("was_limit")
    if params.get("active") and not params.get("was_active"):
        text = (_("finding-fix rule switched on by a manager, for fixes up to %(limit)s (it was %(was)s)") if moved
                else _("finding-fix rule switched on by a manager, for fixes up to %(limit)s"))
    elif params.get("was_active") and not params.get("active"):
        text = (_("finding-fix rule switched off by a manager; its limit changed from %(was)s to %(limit)s")
                if moved else _("finding-fix rule switched off by a manager"))
    else:
        text = _("finding-fix rule's limit changed by a manager from %(was)s to %(limit)s")
    return text % values
