"""The mirror of Alegra: each row keeps the whole last-read body plus columns for listing."""

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Concat, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal.models import Company

MONEY = {"max_digits": 24, "decimal_places": 6}
# Between the fields of an invoice's search text: a character nobody types, so no search matches
# the end of one field and the start of the next.
SEARCH_SEPARATOR = "\x1f"


class MirroredDocument(models.Model):
    """Common shape of every mirrored Alegra resource."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    alegra_id = models.CharField(max_length=36)
    # Sorts like Alegra's own id order (numeric ids zero-padded, UUID v7 as text).
    id_sort = models.CharField(max_length=40, db_index=True)
    document = models.JSONField()
    content_hash = models.CharField(max_length=64)
    is_deleted = models.BooleanField(default=False)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Invoice(MirroredDocument):
    number = models.CharField(_("number"), max_length=60, blank=True, default="")
    # The number with its digits zero-padded, so FE9 sorts before FE10.
    number_sort = models.CharField(max_length=120, blank=True, default="")
    client_alegra_id = models.CharField(max_length=36, blank=True, default="")
    client_name = models.CharField(_("client"), max_length=300, blank=True, default="")
    client_identification = models.CharField(max_length=60, blank=True, default="")
    date = models.DateField(_("date"))
    due_date = models.DateField(_("due date"), null=True)
    status = models.CharField(_("status"), max_length=20, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    decimal_precision = models.PositiveSmallIntegerField(default=2)
    subtotal = models.DecimalField(**MONEY, default=0)
    discount = models.DecimalField(**MONEY, default=0)
    tax = models.DecimalField(**MONEY, default=0)
    total = models.DecimalField(_("total"), **MONEY, default=0)
    total_paid = models.DecimalField(**MONEY, default=0)
    balance = models.DecimalField(_("balance"), **MONEY, default=0)
    is_stamped = models.BooleanField(_("stamped"), default=False)
    legal_status = models.CharField(max_length=60, blank=True, default="")
    line_count = models.PositiveIntegerField(default=0)
    # Number, client and identification upper-cased in one text, kept by the database: a search of
    # one or two characters (too short for the trigram indexes) reads it from a narrow index
    # instead of upper-casing two columns of every row (queries.filtered).
    search_text = models.GeneratedField(
        expression=Upper(Concat("number", Value(SEARCH_SEPARATOR), "client_name", Value(SEARCH_SEPARATOR),
                                "client_identification", output_field=models.TextField())),
        output_field=models.TextField(), db_persist=True)

    # The change reason carries a request's whole reason (source `push`), not only a source name.
    history = HistoricalRecords(
        excluded_fields=["first_seen_at", "search_text"],
        cascade_delete_history=False,
        history_change_reason_field=models.TextField(null=True),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "alegra_id"], name="invoice_unique_alegra_id"),
        ]
        indexes = [
            models.Index(fields=["company", "-date", "-id"], name="invoice_by_date"),
            models.Index(fields=["company", "number_sort", "id"], name="invoice_by_number"),
            models.Index(fields=["company", "-total", "-id"], name="invoice_by_total"),
            models.Index(fields=["company", "client_name"], name="invoice_by_client"),
            models.Index(fields=["company", "status", "-date"], name="invoice_by_status"),
            models.Index(fields=["company", "due_date"], name="invoice_by_due",
                         condition=Q(balance__gt=0)),
        ]

    def __str__(self) -> str:
        return self.number or self.alegra_id

    @property
    def is_void(self) -> bool:
        return self.status == "void"

    @property
    def owes(self) -> bool:
        """Only an open invoice owes money; a void or draft one keeps a balance it does not owe."""
        return self.status == "open" and self.balance > 0

    @property
    def is_overdue(self) -> bool:
        """Owes money past its due date (the list's "overdue" filter, row by row)."""
        return self.owes and self.due_date is not None and self.due_date < timezone.localdate()

    @property
    def editable_in_place(self) -> bool:
        return not self.is_stamped and self.status in {"draft", "open"} and not self.is_deleted


class InvoiceLine(models.Model):
    """Derived from the document on every change, for analysis (price per item and the like)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    item_alegra_id = models.CharField(max_length=36, blank=True, default="")
    name = models.CharField(max_length=300, blank=True, default="")
    price = models.DecimalField(**MONEY, default=0)
    quantity = models.DecimalField(**MONEY, default=0)
    discount_percent = models.DecimalField(max_digits=9, decimal_places=4, default=0)
    tax_percent = models.DecimalField(max_digits=9, decimal_places=4, default=0)
    total = models.DecimalField(**MONEY, default=0)

    class Meta:
        ordering = ["invoice_id", "position"]
        indexes = [models.Index(fields=["company", "item_alegra_id"], name="line_by_item")]


class Contact(MirroredDocument):
    name = models.CharField(max_length=300, blank=True, default="")
    identification = models.CharField(max_length=60, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")

    history = HistoricalRecords(excluded_fields=["first_seen_at"])

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "alegra_id"], name="contact_unique_alegra_id"),
        ]
        indexes = [models.Index(fields=["company", "name"], name="contact_by_name")]

    def __str__(self) -> str:
        return self.name


class Item(MirroredDocument):
    name = models.CharField(max_length=300, blank=True, default="")
    reference = models.CharField(max_length=100, blank=True, default="")
    price = models.DecimalField(**MONEY, default=0)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "alegra_id"], name="item_unique_alegra_id"),
        ]
        indexes = [models.Index(fields=["company", "name"], name="item_by_name")]

    def __str__(self) -> str:
        return self.name


class Tax(MirroredDocument):
    name = models.CharField(max_length=120, blank=True, default="")
    percentage = models.DecimalField(max_digits=9, decimal_places=4, default=0)
    tax_type = models.CharField(max_length=30, blank=True, default="")

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "alegra_id"], name="tax_unique_alegra_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.percentage:g} %)"


class NamedEntry(MirroredDocument):
    """A small catalogue's entry the edit screen offers as a choice (sellers, price lists)."""

    name = models.CharField(max_length=300, blank=True, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        abstract = True
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Seller(NamedEntry):
    class Meta(NamedEntry.Meta):
        constraints = [models.UniqueConstraint(fields=["company", "alegra_id"], name="seller_unique_alegra_id")]


class PriceList(NamedEntry):
    class Meta(NamedEntry.Meta):
        constraints = [models.UniqueConstraint(fields=["company", "alegra_id"], name="price_list_unique_alegra_id")]


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        FULL = "full", _("Full")
        RECENT = "recent", _("Recent dates")
        CATALOGUE = "catalogue", _("Catalogues")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        INTERRUPTED = "interrupted", _("Interrupted")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Where the pages stand, so an interrupted full run can be resumed.
    next_start = models.PositiveIntegerField(default=0)
    id_cursor = models.CharField(max_length=40, blank=True, default="")
    resumed_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    pages_done = models.PositiveIntegerField(default=0)
    pages_total = models.PositiveIntegerField(default=0)
    invoices_seen = models.PositiveIntegerField(default=0)
    invoices_created = models.PositiveIntegerField(default=0)
    invoices_changed = models.PositiveIntegerField(default=0)
    invoices_deleted = models.PositiveIntegerField(default=0)
    requests_made = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # One running sync per company, whatever the number of workers.
            models.UniqueConstraint(
                fields=["company"], condition=Q(state="running"), name="one_running_sync_per_company"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} sync {self.pk} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == self.State.SUCCEEDED:
            return 100
        if not self.pages_total:
            return 0
        return min(99, int(100 * self.pages_done / self.pages_total))

    @property
    def duration(self) -> str:
        """How long the run took, to the second ("" while it runs)."""
        if not self.finished_at:
            return ""
        seconds = max(0, int((self.finished_at - self.started_at).total_seconds()))
        minutes, seconds = divmod(seconds, 60)
        return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"

    @property
    def is_running(self) -> bool:
        return self.state == self.State.RUNNING

    @property
    def is_unfinished(self) -> bool:
        """Queued (asked for on the Sync page, waiting for a worker) or running."""
        return self.state in (self.State.QUEUED, self.State.RUNNING)


class WebhookEvent(models.Model):
    """A webhook delivery accepted (or refused), kept short for diagnosis."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=40)
    alegra_id = models.CharField(max_length=36, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-received_at", "-id"]
