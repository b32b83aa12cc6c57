import pytest

from portal import events

from audit.models import AuditEntry
from tests.factories.edit import make_invoice, mirror_catalogue


@pytest.fixture
def catalogue(company):
    mirror_catalogue(company)


@pytest.fixture
def invoice(company, catalogue):
    return make_invoice(company, number=1)


def entries_after(company, seq: int = 0) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(company=company, seq__gt=seq).order_by("seq"))


def last_seq(company) -> int:
    last = AuditEntry.objects.filter(company=company).order_by("-seq").first()
    return last.seq if last else 0


def summary(entries) -> list[tuple]:
    """(action, actor username or None, on behalf of, why) of each entry, in chain order."""
    # The reason as a reader sees it (tests read English): rendering is part of what is checked.
    return [(e.action, e.actor.username if e.actor_id else None, e.on_behalf_of, events.describe(e.why))
            for e in entries]
