"""Findings, and the statistics the detectors read.

A `Finding` is one problem on one invoice (or one of its lines), found by a detector, with the
evidence as numbers (rendered into words on display) and the fix as a concrete change. Its
fingerprint (company, invoice, kind, line) makes a rescan update it instead of adding a twin.

The fact tables are the statistics: what the last scan saw of every invoice that is neither
void nor deleted, with each line's neighbourhood in its client's history already summarised.
The mirror's writers keep them current through the scan that runs after every change; a full
rescan rebuilds them from the mirror and must land on the same rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from invoices.models import MONEY, Invoice
from portal.models import Company

RATE = {"max_digits": 12, "decimal_places": 4}


class Finding(models.Model):
    class Kind(models.TextChoices):
        PRICE = "price", _("Price")
        TAX = "tax", _("Tax")
        QUANTITY = "quantity", _("Quantity")
        DISCOUNT = "discount", _("Discount")
        DUPLICATE_LINES = "duplicate_lines", _("Duplicate invoice")
        DUPLICATE_NUMBER = "duplicate_number", _("Number used twice")
        DUE_BEFORE_DATE = "due_before_date", _("Due before its date")
        DUE_TERMS = "due_terms", _("Due date off the terms")
        EMPTY = "empty", _("Empty invoice")
        MISSING_IDENTIFICATION = "missing_identification", _("Client without identification")

    class Severity(models.TextChoices):
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("a finding", "Open")  # "Abierto": the invoice's is "Abierta"
        CONFIRMED = "confirmed", _("Being corrected")
        DISMISSED = "dismissed", _("Dismissed")
        RESOLVED = "resolved", _("Resolved")
        SILENCED = "silenced", _("Silenced by learning")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="+")
    line = models.PositiveIntegerField(null=True, blank=True)  # 0-based position, or none
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    # Which rule of the detector spoke (a price slip, a price of another item…); learning scopes on it.
    cause = models.CharField(max_length=30, blank=True, default="")
    fingerprint = models.CharField(max_length=64)
    # The scope a finding is about, for filters and for exceptions learned from dismissals.
    client_alegra_id = models.CharField(max_length=36, blank=True, default="")
    client_name = models.CharField(max_length=300, blank=True, default="")
    item_alegra_id = models.CharField(max_length=36, blank=True, default="")
    invoice_date = models.DateField()
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    rank = models.PositiveSmallIntegerField(default=0)  # 3 high, 2 medium, 1 low: for ordering
    confidence = models.DecimalField(_("confidence"), max_digits=4, decimal_places=3)
    impact = models.DecimalField(_("money at stake"), **MONEY, default=0)
    evidence = models.JSONField(default=dict)
    suggestion = models.JSONField(default=dict)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.OPEN)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.TextField(blank=True, default="")
    correction = models.ForeignKey("approvals.ChangeRequest", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # The learned exception that keeps it off the Review page (state silenced), if any.
    silenced_by = models.ForeignKey("findings.LearnedException", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="silenced")

    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True),
                                cascade_delete_history=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "fingerprint"], name="finding_unique_fingerprint"),
        ]
        indexes = [
            models.Index(fields=["company", "state", "-rank", "-impact", "-id"], name="finding_by_impact"),
            models.Index(fields=["company", "state", "invoice_date"], name="finding_by_month"),
            models.Index(fields=["invoice", "state"], name="finding_by_invoice"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.invoice_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


OPEN_STATES = (Finding.State.OPEN, Finding.State.CONFIRMED)


class InvoiceFact(models.Model):
    """An invoice as the detectors see it, with its neighbourhood among the client's invoices."""

    invoice = models.OneToOneField(Invoice, primary_key=True, on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    client = models.CharField(max_length=36, blank=True, default="")
    rank = models.CharField(max_length=40)  # date|id_sort: the order of the client's invoices
    date = models.DateField()
    due_date = models.DateField(null=True)
    number = models.CharField(max_length=60, blank=True, default="")
    total = models.DecimalField(**MONEY)
    precision = models.PositiveSmallIntegerField(default=2)
    is_stamped = models.BooleanField(default=False)
    editable = models.BooleanField(default=False)
    identification = models.CharField(max_length=60, blank=True, default="")
    contact_term = models.IntegerField(null=True)  # the contact's payment terms in days, when known
    signature = models.CharField(max_length=40, blank=True, default="")  # lines and total, for twins
    line_count = models.PositiveIntegerField(default=0)
    discount = models.DecimalField(**RATE, default=0)  # the highest line discount, %
    reference = models.CharField(max_length=120, blank=True, default="")  # observations, folded
    # Derived from the client's invoices nearest in order (see windows.invoice_windows).
    near_n = models.PositiveSmallIntegerField(default=0)
    near_discount_max = models.DecimalField(**RATE, null=True)
    term_habit = models.IntegerField(null=True)
    twin_of = models.BigIntegerField(null=True)  # the earlier invoice with the same lines and total
    number_of = models.BigIntegerField(null=True)  # the earlier invoice with the same number
    twin_group = models.PositiveIntegerField(default=0)  # invoices of the client with the same lines and total
    client_name = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["company", "client", "rank"], name="ifact_by_client"),
            models.Index(fields=["company", "client", "signature"], name="ifact_by_signature"),
            models.Index(fields=["company", "number"], name="ifact_by_number"),
        ]


class LineFact(models.Model):
    """One line as the detectors see it, with its neighbourhood in the client's history of the item."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    client = models.CharField(max_length=36, blank=True, default="")
    item = models.CharField(max_length=36, blank=True, default="")
    price_list = models.CharField(max_length=36, blank=True, default="")
    rank = models.CharField(max_length=48)  # date|id_sort|position
    date = models.DateField()
    price = models.DecimalField(**MONEY)
    quantity = models.DecimalField(**MONEY)
    discount = models.DecimalField(**RATE)
    tax = models.DecimalField(**RATE)
    catalogue_price = models.DecimalField(**MONEY, null=True)
    catalogue_tax = models.DecimalField(**RATE, null=True)
    # Derived from the nearest sales of the item to the client (see windows.line_windows).
    near_n = models.PositiveSmallIntegerField(default=0)
    price_agree = models.PositiveSmallIntegerField(default=0)
    price_ref = models.DecimalField(**MONEY, null=True)
    price_tolerance = models.DecimalField(**RATE, null=True)
    quantity_ref = models.DecimalField(**MONEY, null=True)
    tax_usual = models.DecimalField(**RATE, null=True)
    near_from = models.DateField(null=True)
    near_to = models.DateField(null=True)
    # Where the client's history is too thin: the company's sales of the item around the date.
    company_ref = models.DecimalField(**MONEY, null=True)
    # The tax this client is habitually charged for items of this catalogue tax, if any.
    habit_tax = models.DecimalField(**RATE, null=True)
    name = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="lfact_unique_position"),
        ]
        indexes = [
            models.Index(fields=["company", "client", "item", "rank"], name="lfact_by_client_item"),
            models.Index(fields=["company", "item", "price_list", "date"], name="lfact_by_item_month",
                         condition=Q(near_n__lt=2)),
        ]


class PriceMonth(models.Model):
    """How many times each unit price of an item was invoiced on a price list in a month."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    item = models.CharField(max_length=36)
    price_list = models.CharField(max_length=36, blank=True, default="")
    month = models.DateField()
    counts = models.JSONField(default=dict)  # price text → count

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "item", "price_list", "month"], name="pmonth_unique"),
        ]


class ClientTaxHabit(models.Model):
    """How often a client was charged each tax for items of each catalogue tax."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    client = models.CharField(max_length=36)
    counts = models.JSONField(default=dict)  # "catalogue>charged" → count

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "client"], name="taxhabit_unique")]


class ScanState(models.Model):
    """One per company: its row lock serialises the scans of the company; it says when they ran."""

    company = models.OneToOneField(Company, primary_key=True, on_delete=models.CASCADE, related_name="+")
    last_full_at = models.DateTimeField(null=True)
    last_full_seconds = models.FloatField(null=True)
    last_scan_at = models.DateTimeField(null=True)
    invoices_scanned = models.PositiveIntegerField(default=0)


class PendingScan(models.Model):
    """An invoice changed and not scanned yet. A burst of webhooks queues its invoices here and
    one scan takes them all (in that scan's transaction: a scan that fails leaves them queued)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    invoice_id = models.BigIntegerField()
    queued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "invoice_id"], name="pending_scan_unique")]


# --- learning: the memory it reads, every decision explainable from these rows -----------------


class Feedback(models.Model):
    """A person's word on a finding: confirmed (a correction drafted, or marked right) or dismissed.

    Append-only; the calibrated confidence of each detector is counted from these rows.
    """

    class Verdict(models.TextChoices):
        CONFIRM = "confirm", _("Confirmed")
        DISMISS = "dismiss", _("Dismissed")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="feedback")
    kind = models.CharField(max_length=30, choices=Finding.Kind.choices)
    cause = models.CharField(max_length=30, blank=True, default="")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True, default="")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["company", "kind", "cause", "verdict"], name="feedback_by_detector")]


class LearnedException(models.Model):
    """What a dismissal taught, at the narrowest scope that explains it: this client and this item
    at this price, this client's discount up to this much, this client's terms of so many days…

    `scope` holds the accepted value(s) as numbers (see findings.learning.exceptions). Active
    until a manager revokes it; the findings it silenced then come back.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=30, choices=Finding.Kind.choices)
    client_alegra_id = models.CharField(max_length=36, blank=True, default="")
    client_name = models.CharField(max_length=300, blank=True, default="")
    item_alegra_id = models.CharField(max_length=36, blank=True, default="")
    item_name = models.CharField(max_length=300, blank=True, default="")
    scope = models.JSONField(default=dict)
    taught_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    taught_at = models.DateTimeField()
    reason = models.TextField(blank=True, default="")
    from_finding = models.ForeignKey(Finding, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_invoice_date = models.DateField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.TextField(blank=True, default="")
    silenced_until_revoked = models.PositiveIntegerField(default=0)

    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True),
                                cascade_delete_history=False)

    class Meta:
        indexes = [models.Index(fields=["company", "kind", "client_alegra_id"], name="exception_by_scope")]

    def __str__(self) -> str:
        return f"exception #{self.pk} ({self.kind}, {self.client_name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LearningSettings(models.Model):
    """A company's dial on learning: findings whose calibrated confidence is below `hide_below`
    leave the Review page (0 hides nothing)."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+")
    hide_below = models.DecimalField(_("hide findings below this confidence"), max_digits=4, decimal_places=3,
                                     default=0)

    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True),
                                cascade_delete_history=False)
