"""Forms of the approval screens: inbox filters, a decision, policies, rules, settings."""

from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _

from ..routing import policy_label
from .fields import LocalDecimalField
from ..models import ApprovalSettings, AutoApprovalRule, ChangeRequest, Decision, RoutingPolicy
from ..services.decisions import MAX_COMMENT


class InboxFilterForm(forms.Form):
    WAITING_CHOICES = [("mine", _("Waiting for me")), ("all", _("All pending"))]

    waiting = forms.ChoiceField(label=_("Show"), choices=WAITING_CHOICES, required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("Any kind")), *ChangeRequest.Kind.choices])
    requester = forms.TypedChoiceField(label=_("Requested by"), required=False, coerce=int,
                                       empty_value=None, choices=[])
    min_impact = LocalDecimalField(label=_("Impact at least"), required=False, min_value=Decimal(0),
                                   max_digits=20, decimal_places=2)
    older_than = forms.IntegerField(label=_("Pending more than (days)"), required=False, min_value=0,
                                    max_value=3650)

    def __init__(self, *args, requesters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requester"].choices = [("", _("Anyone"))] + [
            (user.pk, user.get_full_name() or user.get_username()) for user in requesters]


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Decision.Outcome.choices)
    comment = forms.CharField(required=False, max_length=MAX_COMMENT, widget=forms.Textarea(attrs={"rows": 2}))


class PolicyForm(forms.ModelForm):
    approvals_required = forms.IntegerField(label=_("Approvals required"), min_value=1, max_value=5, initial=1)

    class Meta:
        model = RoutingPolicy
        fields = ["name", "position", "kind", "changes", "min_impact", "requested_by", "origin", "approvals_required",
                  "manager_required", "is_active"]
        field_classes = {"min_impact": LocalDecimalField}

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            # A default policy's name as the reader says it; saved unchanged, it keeps its stored form.
            self.initial["name"] = policy_label(self.instance.name)
        field = self.fields["requested_by"]
        field.queryset = field.queryset.filter(pk__in=[user.pk for user in members])
        field.label_from_instance = lambda user: user.get_full_name() or user.get_username()
        field.empty_label = _("Anyone")
        # Said on the field, as a person would: the database's own refusal named its constraint.
        self.fields["min_impact"].validators.append(MinValueValidator(Decimal(0)))


class AutoRuleForm(forms.ModelForm):
    class Meta:
        model = AutoApprovalRule
        fields = ["name", "kind", "max_discount_percent", "max_impact", "max_days", "is_active"]
        field_classes = {"max_discount_percent": LocalDecimalField, "max_impact": LocalDecimalField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Finding fixes are set up on the Learning page, where the kinds of finding are known.
        self.fields["kind"].choices = [c for c in self.fields["kind"].choices
                                       if c[0] != AutoApprovalRule.Kind.FINDING_FIX]

    def clean(self):
        # The limits each kind needs, said on their fields: the database's own refusal (its
        # constraints) named the constraint.
        data = super().clean()
        needed = {AutoApprovalRule.Kind.SMALL_DISCOUNT: ("max_discount_percent", "max_impact"),
                  AutoApprovalRule.Kind.DUE_DATE: ("max_days",)}.get(data.get("kind"), ())
        for name in needed:
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, _("This kind of rule needs this limit."))
        return data


class SettingsForm(forms.ModelForm):
    remind_after_hours = forms.IntegerField(label=_("Remind approvers after (hours)"), min_value=1, max_value=1440)

    class Meta:
        model = ApprovalSettings
        fields = ["remind_after_hours"]
