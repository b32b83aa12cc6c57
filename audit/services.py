"""Writes of the audit area: restoring a version (as a change request) and verifying chains.

The log itself is written only by `audit.recorder`, from the history rows the other apps'
services produce; nothing here changes or removes an entry.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.models import ChangeRequest
from approvals.errors import ApprovalError
from approvals.services.requests import request_save_draft
from invoices import editable
from invoices.models import Invoice
from invoices.rules import RuleViolation
from portal import formats

from . import anchors, chain, queries, versions
from .models import SYSTEM_CHAIN


def restored_document(current: Mapping, version: Mapping) -> dict:
    """The current invoice with the editable fields and the lines of an earlier version.

    What an in-place update cannot change (numbering, payments, the stamp) stays as it is now;
    a field the old version did not have keeps its current value.
    """
    proposed = copy.deepcopy(dict(current))
    for name in editable.EDITABLE_HEADER_FIELDS:
        if name in version:
            proposed[name] = copy.deepcopy(version[name])
    proposed["items"] = copy.deepcopy(version.get("items") or [])
    return proposed


@transaction.atomic
def version_restore(*, invoice: Invoice, history_id: int, user) -> ChangeRequest:
    """A draft change request that brings the invoice back to one of its versions.

    It is an ordinary draft: the accountant reviews it, submits it, and it is approved and
    pushed like any other edit. Every rule of a draft applies; a refusal writes nothing.
    """
    version = (invoice.history.filter(history_id=history_id)
               .values("history_id", "history_date", "document", "content_hash").first())
    if version is None:
        raise ApprovalError.of([RuleViolation("", "no_such_version", _("This invoice has no such version."))])
    if version["content_hash"] == invoice.content_hash:
        raise ApprovalError.of([RuleViolation("", "already_current", _(
            "This version is the invoice as it is now: there is nothing to restore."))])
    if not versions.matches_trail("invoice", history_id):
        raise ApprovalError.of([RuleViolation("", "version_altered", _(
            "This version does not match the audit trail (it was changed after it was recorded), "
            "so it cannot be restored."))])
    if not isinstance(version["document"], Mapping) or not isinstance(invoice.document, Mapping):
        raise ApprovalError.of([RuleViolation("", "unreadable_version", _(
            "This version cannot be read as an invoice, so it cannot be restored."))])
    number = invoice.history.filter(history_id__lte=history_id).count()
    when = timezone.localtime(version["history_date"], queries.company_zone(invoice.company))
    # The moment as the company writes it (Colombia: 07/12/2026 17:52), whoever restores: the
    # language's own format put the month first in English and ended in a second period.
    reason = _("Restores version %(number)s of the invoice, from %(when)s.") % {
        "number": number, "when": formats.datetime(when, invoice.company.country)}
    return request_save_draft(invoice=invoice, user=user, kind=ChangeRequest.Kind.UPDATE,
                              proposed=restored_document(invoice.document, version["document"]),
                              reason=reason, base_hash=invoice.content_hash)


def chain_verify(*, company_id: int | None, anchor: bool = False) -> chain.ChainReport:
    """Recompute a company's chain (None: the system chain) and keep the result for the badge.

    With `anchor`, a chain found intact has its head anchored outside the database.
    """
    report = chain.verify_and_record(company_id or SYSTEM_CHAIN)
    if anchor and report.ok:
        anchors.write(report.chain)
    return report


def chains_verify_all(*, anchor: bool = False) -> list[chain.ChainReport]:
    return [chain_verify(company_id=key, anchor=anchor) for key in chain.chain_keys()]


@dataclass(frozen=True)
class AnchorResult:
    chain: int
    anchor: anchors.Anchor | None
    problem: str = ""


def chains_anchor(*, company_id: int | None = None, every: bool = False) -> list[AnchorResult]:
    """Write the signed head of one chain, or of every chain, outside the database."""
    keys = chain.chain_keys() if every else [company_id or SYSTEM_CHAIN]
    results = []
    for key in keys:
        try:
            results.append(AnchorResult(key, anchors.write(key)))
        except anchors.AnchorError as error:
            results.append(AnchorResult(key, None, str(error)))
    return results
