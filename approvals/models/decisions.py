"""One approver's answer (or an auto-approval rule's) on one revision of a change request."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .change_requests import ChangeRequest
from .policies import AutoApprovalRule

__all__ = ["Decision"]


class Decision(models.Model):
    """One approver's answer on one revision (base + proposal) of a change request.

    `requester` is copied from the request so that the database itself refuses
    a decision by the person who asked, whatever code path writes it.
    """

    class Outcome(models.TextChoices):
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")

    change_request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="decisions")
    # Which version of the request was decided: a re-based request needs new approvals.
    revision = models.CharField(max_length=64)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("approver"),
    )
    approver_role = models.CharField(max_length=20, blank=True, default="")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("decision"), max_length=10, choices=Outcome.choices)
    comment = models.TextField(_("comment"), blank=True, default="")
    auto_rule = models.ForeignKey(AutoApprovalRule, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="decisions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(approver=F("requester")), name="decision_not_by_requester"),
            models.UniqueConstraint(fields=["change_request", "revision", "approver"],
                                    name="one_decision_per_approver"),
            models.CheckConstraint(condition=Q(outcome__in=["approve", "reject"]), name="decision_outcome_valid"),
            models.CheckConstraint(condition=Q(outcome="approve") | ~Q(comment=""),
                                   name="decision_reject_has_comment"),
            # Nobody is a decision by no one: a person, or (approving only) a rule.
            models.CheckConstraint(
                condition=Q(approver__isnull=False, auto_rule__isnull=True)
                | Q(approver__isnull=True, auto_rule__isnull=False, outcome="approve"),
                name="decision_by_person_or_rule",
            ),
        ]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self) -> str:
        who = self.approver or self.auto_rule
        return f"{self.get_outcome_display()} by {who} on #{self.change_request_id}"

    @property
    def is_approval(self) -> bool:
        return self.outcome == self.Outcome.APPROVE
