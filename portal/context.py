from django.utils.functional import SimpleLazyObject

from .access import current_membership, memberships_for


def tenancy(request):
    """The user's memberships and the one being looked at, read only if the page shows them: a
    fragment (the bell, the counters, a table) renders without the header and its query."""
    if not hasattr(request, "user") or not request.user.is_authenticated:
        return {}
    return {
        "memberships": SimpleLazyObject(lambda: memberships_for(request.user)),
        "current_membership": SimpleLazyObject(lambda: current_membership(request)),
    }
