"""Two approvers deciding at the same moment, in two threads with their own connections.

On PostgreSQL the request row lock serialises them; on SQLite the IMMEDIATE transactions do.
Either way: exactly the approvals needed, one outbox row, one push, one PUT.
"""

import threading

import pytest
from django.db import connection

from approvals.models import ChangeRequest, Decision, Push, RoutingPolicy
from approvals.errors import ApprovalError
from approvals.services.decisions import request_decide
from tests.approvals.pushkit import invoice_puts, sandbox_pushes, submit, world  # noqa: F401 (fixtures)


def decide_together(change_request_id: int, users) -> dict[str, str]:
    barrier = threading.Barrier(len(users))
    results: dict[str, str] = {}

    def decide(user):
        try:
            barrier.wait(timeout=30)
            request_decide(change_request=ChangeRequest.objects.get(pk=change_request_id), user=user,
                           outcome="approve")
            results[user.username] = "ok"
        except ApprovalError as refused:
            results[user.username] = refused.code
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("needed", [1, 2])
def test_two_approvers_at_once_give_exactly_the_approvals_needed_and_one_push(world, sandbox_pushes, needed):
    RoutingPolicy.objects.create(company=world.company, name="Prueba", approvals_required=needed)
    change_request = submit(world.invoice, world.accountant, observations="A la vez")
    assert change_request.approvals_required == needed

    results = decide_together(change_request.pk, [world.approver, world.approver2])

    assert sorted(results.values()) == (["not_pending", "ok"] if needed == 1 else ["ok", "ok"])
    assert Decision.objects.filter(change_request=change_request).count() == needed
    assert Push.objects.filter(change_request=change_request).count() == 1
    change_request.refresh_from_db()
    assert change_request.state == ChangeRequest.State.APPLIED
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1
