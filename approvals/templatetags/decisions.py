"""{% decision_panel_for change_request as panel %}: the decision panel's data for a page that embeds it."""

from django import template
from django.utils.translation import gettext as _

from portal.access import memberships_for

from .. import texts
from ..presenters_decide import panel_for
from ..routing import policy_label as _policy_label

register = template.Library()


@register.simple_tag(takes_context=True)
def decision_panel_for(context, change_request):
    request = context.get("request")
    if change_request is None or request is None:
        return None
    membership = next((m for m in memberships_for(request.user) if m.company_id == change_request.company_id), None)
    if membership is None:
        return None
    return panel_for(change_request, membership, request.user)


@register.filter
def policy_label(name) -> str:
    """A policy's name in the reader's language when the system named it ("Every change")."""
    return _policy_label(name)


@register.filter
def tax_label(tax) -> str:
    """"IVA 19%" once, not "IVA 19% 19 %"."""
    return texts.tax_label(str(tax.get("name") or "") if isinstance(tax, dict) else str(getattr(tax, "name", "")),
                 tax.get("percentage") if isinstance(tax, dict) else getattr(tax, "percentage", None))


# What stopped a push on the portal's side, by its code: in the reader's words, never presented
# as Alegra's answer (only Alegra's own answers are quoted as such).
OWN_PROBLEMS = {
    "altered_after_approval": lambda: _("The change differs from the one approved: nothing was written to Alegra."),
    "rate_limited": lambda: _("Alegra's limit of requests is used up for now: the push is tried again later."),
    "invalid_json": lambda: _("Alegra's answer could not be read: the push reads the invoice again before "
                              "trying again."),
}


@register.filter
def own_problem(push) -> str:
    """The portal's words for what stopped the push, or "" when it is Alegra's answer to quote."""
    words = OWN_PROBLEMS.get(push.last_code or "")
    if words is not None:
        return words()
    if not push.last_status and push.last_message:  # no answer at all: the network, a timeout
        return _("Alegra could not be reached (%(detail)s).") % {"detail": push.last_message}
    return ""
