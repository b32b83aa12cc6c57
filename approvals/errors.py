"""The one error every approvals service raises: a code, its parameters, and what they mean.

A refusal is data first (`code`, `params`), words second: the message is rendered from the
catalogue below in the language active when it is read, so a screen, a command and the API
all say the same thing in their reader's language. A refusal found by the document rules
(`invoices.rules`) carries their violations, one per field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from invoices.rules import RuleViolation

# code -> message, or code -> {variant: message} where params["variant"] picks one.
MESSAGES: dict[str, Promise | dict[str, Promise]] = {
    "not_allowed": {
        "propose": _("Only the company's accountants can propose changes."),
        "decide": _("Only the company's approvers and managers can decide requests."),
        "retry": _("Only the requester, an approver or a manager can retry."),
        "manage": _("Only the company's managers can change approval policies."),
    },
    "not_yours": _("Only the person who drafted this request can change it."),
    "open_request_exists": _(
        "Change request #%(number)s (%(state)s, by %(user)s) is already open for this "
        "invoice: only one at a time."),
    "invalid_kind": {
        "change": _("Unknown kind of change."),
        "rule": _("Unknown kind of rule."),
    },
    "invalid_changes": _("Unknown kind of change."),
    "wrong_request": _("This draft belongs to another invoice or kind of change."),
    "not_draft": {
        "edit": _("Only a draft can be edited; this request is %(state)s."),
        "submit": _("Only a draft can be submitted; this request is %(state)s."),
    },
    "not_cancellable": _("This request is %(state)s: it can no longer be cancelled."),
    "not_rebasable": _("This request is %(state)s: it can no longer be re-based."),
    "not_copyable": _("Only a rejected or cancelled request can be copied into a new draft."),
    "invalid_transition": _("A request that is %(state)s cannot become %(to)s."),
    "base_changed": _(
        "The invoice changed in Alegra after you started editing. Review what changed "
        "meanwhile and re-base your changes before submitting."),
    "rebase_conflict": {
        "invoice": _(
            "Your changes cannot be carried over: the invoice was changed meanwhile in the "
            "same places (%(fields)s). Cancel this request and start again from the current "
            "version."),
        "contact": _(
            "Your changes cannot be carried over: the contact was changed meanwhile in the "
            "same places (%(fields)s). Cancel this request and start again from the current "
            "version."),
    },
    "fix_first": {
        "save": _("Nothing was saved: fix the errors below."),
        "rebase": _("Fix the errors below before re-basing."),
    },
    "invalid_outcome": _("Choose approve or reject."),
    "own_request": _("You cannot approve or reject your own request."),
    "not_pending": _("This request is %(state)s: it no longer waits for a decision."),
    "comment_required": _("Say why you reject the request: a comment is required."),
    "comment_too_long": _("The comment can have at most %(max)s characters (it has %(length)s)."),
    "already_decided": _("You have already decided this request."),
    "not_failed": _("Only a failed push can be retried."),
    "not_conflict": _("Only a request in conflict can be re-based here."),
    "required": _("%(field)s is required."),
    "invalid_number": {
        "field": _("%(field)s must be a number."),
        "policy": _("Approvals and position must be whole numbers."),
        "hours": _("The reminder limit must be a whole number of hours."),
    },
    "out_of_range": {
        "field": _("%(field)s is out of range."),
        "approvals": _("A policy asks for 1 to 5 approvals."),
        "position": _("The position must be between 0 and 32767."),
        "hours": _("The reminder limit must be between 1 and 1440 hours."),
    },
    "name_required": {
        "policy": _("Give the policy a name of at most 120 characters."),
        "rule": _("Give the rule a name of at most 120 characters."),
    },
    "unknown_user": _("That person is not a member of the company."),
    "not_found": {
        "policy": _("No such policy."),
        "rule": _("No such rule."),
    },
    "duplicate_name": {
        "policy": _("Another policy already has that name."),
        "rule": _("Another rule already has that name."),
    },
    "limits_required": {
        "": _("A discount rule needs both limits: the highest discount and the highest impact."),
        "due_date": _("A due-date rule needs its limit: how many days the due date may move."),
        "finding_fix": _("A finding-fix rule needs the kind of finding and the highest impact."),
    },
}


def render(code: str, params: Mapping[str, Any] | None = None) -> str:
    """The message of a code in the active language (lazy parameters rendered too)."""
    params = dict(params or {})
    template = MESSAGES.get(code)
    if isinstance(template, dict):
        template = template.get(params.get("variant", ""))
    if template is None:
        return code
    return str(template) % {key: str(value) for key, value in params.items()}


class ApprovalError(Exception):
    """A write refused by the approvals services; nothing was written.

    `code` and `params` say what was refused; `violations` lists every reason, one per field
    where a field is to blame (a proposal can break several document rules at once).
    """

    def __init__(self, code: str, params: Mapping[str, Any] | None = None, *, field: str = "",
                 violations: Iterable[RuleViolation] | None = None):
        self.code = code
        self.params = dict(params or {})
        self.field = field
        self._violations = list(violations) if violations is not None else None
        super().__init__(code)

    @classmethod
    def of(cls, violations: Iterable[RuleViolation]) -> ApprovalError:
        """A refusal by the document rules: its code is the first rule's."""
        violations = list(violations)
        return cls(violations[0].code if violations else "invalid", violations=violations)

    @property
    def violations(self) -> list[RuleViolation]:
        if self._violations is not None:
            return list(self._violations)
        return [RuleViolation(self.field, self.code, render(self.code, self.params))]

    @property
    def codes(self) -> list[str]:
        return [violation.code for violation in self.violations]

    @property
    def message(self) -> str:
        return "; ".join(violation.message for violation in self.violations)

    def __str__(self) -> str:
        return self.message


class StaleBase(ApprovalError):
    """The mirrored document moved since the edit began; the edit must be re-based first."""

    def __init__(self, *, base_hash: str, current_hash: str):
        self.base_hash, self.current_hash = base_hash, current_hash
        super().__init__("base_changed")
