"""Access helpers every view uses: outsiders get 404, never a 403 or a leak."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from . import formats
from .models import Company, Membership, Role

EDIT_ROLES = {Role.ACCOUNTANT}
DECIDE_ROLES = {Role.APPROVER, Role.MANAGER}
MANAGE_ROLES = {Role.MANAGER}
ALL_ROLES = set(Role)


def memberships_for(user) -> list[Membership]:
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_enmienda_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user, user__is_active=True)
            .select_related("company")
            .order_by("company__name", "company_id")
        )
        user._enmienda_memberships = cached
    return cached


def company_ids_for(user) -> list[int]:
    return [m.company_id for m in memberships_for(user)]


def get_membership(request: HttpRequest, company_id: int, roles: Iterable[str] = ALL_ROLES) -> Membership:
    """The user's membership in the company, 404 for outsiders, 403 for a member without the role."""
    for membership in memberships_for(request.user):
        if membership.company_id == company_id:
            if membership.role not in set(roles):
                raise PermissionDenied
            # The header shows the company of the page being looked at.
            request.enmienda_membership = membership
            # Numbers on this page are written and read as this company's country does.
            formats.set_current_country(membership.company.country)
            return membership
    raise Http404("No such company")


def get_company_for_user(request: HttpRequest, company_id: int, roles: Iterable[str] = ALL_ROLES) -> Company:
    return get_membership(request, company_id, roles).company


def current_membership(request: HttpRequest) -> Membership | None:
    """The company the user last switched to, or their first one."""
    memberships = memberships_for(request.user)
    if not memberships:
        return None
    if getattr(request, "enmienda_membership", None) is not None:
        return request.enmienda_membership
    wanted = request.session.get("company_id")
    for membership in memberships:
        if membership.company_id == wanted:
            return membership
    return memberships[0]


def remember_company(request: HttpRequest, company_id: int) -> None:
    """Make this company the current one; writes the session only when it changes."""
    if request.session.get("company_id") != company_id:
        request.session["company_id"] = company_id
