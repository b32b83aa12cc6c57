from .access import current_membership, memberships_for


def tenancy(request):
    if not hasattr(request, "user") or not request.user.is_authenticated:
        return {}
    return {
        "memberships": memberships_for(request.user),
        "current_membership": current_membership(request),
    }
