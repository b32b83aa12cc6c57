"""Webhook subscription endpoints."""

from .. import services
from ..api import body_of, endpoint


@endpoint("GET", "POST")
def subscriptions(request, account):
    if request.method == "POST":
        return services.subscription_create(account, body_of(request)), 201
    return services.subscription_list(account)


@endpoint("GET", "PUT", "DELETE")
def subscription(request, account, subscription_id):
    if request.method == "PUT":
        return services.subscription_update(account, subscription_id, body_of(request))
    if request.method == "DELETE":
        return services.subscription_delete(account, subscription_id)
    return services.subscription_get(account, subscription_id)
