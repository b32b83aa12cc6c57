"""Routing policies, auto-approval rules and the company's approval settings; a request's frozen routing."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from invoices.models import MONEY
from portal.models import Company

from .change_requests import ChangeRequest

__all__ = ["ApprovalSettings", "AutoApprovalRule", "Routing", "RoutingPolicy"]


class RoutingPolicy(models.Model):
    """Who must approve a request that matches every condition set here.

    Of all the active policies a request matches, the strictest routes it (most
    approvals, then a manager required, then the lowest position): a credit
    note of a huge amount cannot slip past the rule about huge amounts.
    """

    class Changes(models.TextChoices):
        ANY = "", _("Any change")
        CLIENT = "client", _("Client changed")
        DATE = "date", _("Date or due date changed")
        LINES = "lines", _("Lines changed")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="routing_policies")
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    # Conditions; a blank one matches everything.
    kind = models.CharField(_("kind"), max_length=20, blank=True, default="",
                            choices=[("", _("Any kind")), *ChangeRequest.Kind.choices])
    changes = models.CharField(_("what changed"), max_length=20, blank=True, default="",
                               choices=Changes.choices)
    # Matches when the money impact (absolute) is above this amount.
    min_impact = models.DecimalField(_("impact above"), **MONEY, null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("requested by"),
    )
    # Where the request was made: through an API token, or by an AI agent (blank: anywhere).
    origin = models.CharField(_("made through"), max_length=10, blank=True, default="", db_default="",
                              choices=[("", _("Anywhere")), ("api", _("An API token")), ("agent", _("An AI agent"))])
    # What it asks for.
    approvals_required = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    manager_required = models.BooleanField(_("a manager must approve"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        ordering = ["company_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="routing_policy_unique_name"),
            models.CheckConstraint(
                condition=Q(approvals_required__gte=1) & Q(approvals_required__lte=5),
                name="routing_policy_approvals_1_to_5",
            ),
            models.CheckConstraint(condition=Q(min_impact__isnull=True) | Q(min_impact__gte=0),
                                   name="routing_policy_impact_not_negative"),
        ]
        verbose_name = _("routing policy")
        verbose_name_plural = _("routing policies")

    def __str__(self) -> str:
        return self.name


class AutoApprovalRule(models.Model):
    """A low-risk change the system approves by itself; every rule starts switched off."""

    class Kind(models.TextChoices):
        NOTES_ONLY = "notes_only", _("Only notes, observations or terms changed")
        CONTACT_ADDRESS = "contact_address", _("Only the client's address changed")
        SMALL_DISCOUNT = "small_discount", _("Only line discounts changed, within limits")
        DUE_DATE = "due_date", _("Only the due date moved, within limits")
        # Requests the system drafts from a finding's suggested fix under this very rule (and
        # no other request): see ChangeRequest.origin_rule.
        FINDING_FIX = "finding_fix", _("A finding's suggested fix, drafted by the system")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="auto_approval_rules")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("rule"), max_length=30, choices=Kind.choices)
    is_active = models.BooleanField(_("active"), default=False)
    max_discount_percent = models.DecimalField(_("discount up to (%)"), max_digits=7, decimal_places=4,
                                               null=True, blank=True)
    max_impact = models.DecimalField(_("impact up to"), **MONEY, null=True, blank=True)
    max_days = models.PositiveIntegerField(_("days moved up to"), null=True, blank=True)
    # For a finding fix: the kind of finding it pre-approves (the findings layer names them).
    finding_kind = models.CharField(_("kind of finding"), max_length=30, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        ordering = ["company_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="auto_rule_unique_name"),
            models.CheckConstraint(condition=Q(kind__in=["notes_only", "contact_address", "small_discount",
                                                         "due_date", "finding_fix"]),
                                   name="auto_rule_kind_valid"),
            models.CheckConstraint(condition=~Q(kind="due_date") | Q(max_days__isnull=False),
                                   name="auto_rule_due_date_limit_set"),
            models.CheckConstraint(condition=~Q(kind="finding_fix") | (Q(max_impact__isnull=False) & ~Q(finding_kind="")),
                                   name="auto_rule_finding_fix_limits_set"),
            # A discount rule without both limits would approve any discount.
            models.CheckConstraint(
                condition=~Q(kind="small_discount")
                | (Q(max_discount_percent__isnull=False) & Q(max_impact__isnull=False)),
                name="auto_rule_discount_limits_set",
            ),
        ]
        verbose_name = _("auto-approval rule")
        verbose_name_plural = _("auto-approval rules")

    def __str__(self) -> str:
        return self.name


class ApprovalSettings(models.Model):
    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="approval_settings")
    # A daily reminder names requests pending longer than this.
    remind_after_hours = models.PositiveIntegerField(_("remind after (hours)"), default=48)

    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        verbose_name = _("approval settings")
        verbose_name_plural = _("approval settings")

    def __str__(self) -> str:
        return f"approval settings of {self.company}"


class Routing(models.Model):
    """What a request needed when it was submitted, frozen: later policy edits do not move it."""

    change_request = models.OneToOneField(ChangeRequest, on_delete=models.CASCADE, related_name="routing")
    policy = models.ForeignKey(RoutingPolicy, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    policy_name = models.CharField(max_length=120, blank=True, default="")
    # The revision (base + proposal) this routing was made for; a re-based request is routed again.
    revision = models.CharField(max_length=64, blank=True, default="")
    approvals_required = models.PositiveSmallIntegerField(default=1)
    manager_required = models.BooleanField(default=False)
    reason = models.TextField(blank=True, default="")
    impact = models.DecimalField(**MONEY, default=0)
    auto_rule = models.ForeignKey(AutoApprovalRule, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    routed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(approvals_required__gte=1), name="routing_needs_an_approval"),
        ]

    def __str__(self) -> str:
        return f"routing of #{self.change_request_id}: {self.policy_name}"
