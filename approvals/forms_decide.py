"""Forms of the approval screens: inbox filters, a decision, policies, rules, settings."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AutoApprovalRule, ChangeRequest, Decision, RoutingPolicy
from .services.decisions import MAX_COMMENT


class InboxFilterForm(forms.Form):
    WAITING_CHOICES = [("mine", _("Waiting for me")), ("all", _("All pending"))]

    waiting = forms.ChoiceField(label=_("Show"), choices=WAITING_CHOICES, required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("Any kind")), *ChangeRequest.Kind.choices])
    requester = forms.TypedChoiceField(label=_("Requested by"), required=False, coerce=int,
                                       empty_value=None, choices=[])
    min_impact = forms.DecimalField(label=_("Impact at least"), required=False, min_value=Decimal(0),
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


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=32767, initial=100)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any kind")), *ChangeRequest.Kind.choices])
    changes = forms.ChoiceField(label=_("What changed"), required=False, choices=RoutingPolicy.Changes.choices)
    min_impact = forms.DecimalField(label=_("Impact above"), required=False, min_value=Decimal(0),
                                    max_digits=20, decimal_places=2)
    requested_by = forms.TypedChoiceField(label=_("Requested by"), required=False, coerce=int,
                                          empty_value=None, choices=[])
    approvals_required = forms.IntegerField(label=_("Approvals required"), min_value=1, max_value=5, initial=1)
    manager_required = forms.BooleanField(label=_("A manager must approve"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requested_by"].choices = [("", _("Anyone"))] + [
            (user.pk, user.get_full_name() or user.get_username()) for user in members]


class AutoRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Rule"), choices=AutoApprovalRule.Kind.choices)
    max_discount_percent = forms.DecimalField(label=_("Discount up to (%)"), required=False, min_value=Decimal(0),
                                              max_value=Decimal(100), max_digits=7, decimal_places=4)
    max_impact = forms.DecimalField(label=_("Impact up to"), required=False, min_value=Decimal(0),
                                    max_digits=20, decimal_places=2)
    is_active = forms.BooleanField(label=_("Active"), required=False)


class SettingsForm(forms.Form):
    remind_after_hours = forms.IntegerField(label=_("Remind approvers after (hours)"), min_value=1, max_value=1440)
