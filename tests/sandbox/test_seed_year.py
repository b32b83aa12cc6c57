"""The `year` seed profile: a year of trade with client habits, hard negatives and labelled mistakes."""

import copy
import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command

from alegra_sandbox import services
from alegra_sandbox.documents import recompute
from alegra_sandbox.models import SandboxAccount, SandboxHardNegative, SandboxInvoice, SandboxPlantedMistake
from alegra_sandbox.services.seed_year_mistakes import KINDS

TODAY = dt.date(2025, 12, 31)


def seeded(email, invoices=3000, seed=42):
    account = services.account_create(email=email, token="t")
    services.seed(account, seed=seed, invoices=invoices, today=TODAY, profile="year")
    return account


def docs(account):
    return {d["id"]: d for d in SandboxInvoice.objects.filter(account=account).order_by("number")
            .values_list("document", flat=True)}


@pytest.fixture
def year(db):
    return seeded("year@example.com")


def test_same_seed_same_year(db):
    a, b = seeded("a@example.com", invoices=400), seeded("b@example.com", invoices=400)
    assert list(docs(a).values()) == list(docs(b).values())
    labels = lambda account: sorted(SandboxPlantedMistake.objects.filter(account=account)  # noqa: E731
                                    .values_list("invoice__number", "kind"))
    assert labels(a) == labels(b)


def test_a_year_of_consistent_documents(year):
    documents = docs(year)
    dates = sorted(d["date"] for d in documents.values())
    assert dates[0] >= (TODAY - dt.timedelta(days=365)).isoformat() and dates[-1] <= TODAY.isoformat()
    for doc in documents.values():
        assert recompute(copy.deepcopy(doc)) == doc, doc["id"]


def test_every_kind_of_mistake_is_planted_and_labelled(year):
    planted = Counter(SandboxPlantedMistake.objects.filter(account=year).values_list("kind", flat=True))
    assert set(planted) == {kind for kind, _ in KINDS} | {"missing_identification"}
    assert 0.02 < sum(planted.values()) / 3000 < 0.08
    documents = docs(year)
    for mistake in SandboxPlantedMistake.objects.filter(account=year).select_related("invoice"):
        doc = documents[str(mistake.invoice.number)]
        assert doc["status"] != "void"
        if mistake.kind == "price_slip":
            line = doc["items"][mistake.detail["line"]]
            assert Decimal(line["price"]) == Decimal(mistake.detail["actual_price"])
        elif mistake.kind == "due_before_date":
            assert doc["dueDate"] < doc["date"]
        elif mistake.kind == "duplicate_lines":
            original = documents[mistake.detail["duplicate_of"]]
            assert original["client"]["id"] == doc["client"]["id"] and original["total"] == doc["total"]
        elif mistake.kind == "duplicate_number":
            assert doc["numberTemplate"]["fullNumber"] == mistake.detail["number"] != f"FE{doc['id']}"


def test_hard_negatives_are_labelled(year):
    kinds = set(SandboxHardNegative.objects.filter(account=year).values_list("kind", flat=True))
    assert kinds >= {"standing_discount", "wholesale_list", "negotiated_price", "big_order", "consumidor_final",
                     "price_before_rise", "void_with_mistake", "new_client_big_first"}
    documents = docs(year)
    for negative in SandboxHardNegative.objects.filter(account=year, kind="new_client_big_first")[:5]:
        assert Decimal(documents[str(negative.invoice.number)]["total"]) > 5_000_000


def test_the_api_never_shows_the_labels(year):
    from alegra_sandbox.testing import make_client

    planted = SandboxPlantedMistake.objects.filter(account=year).first()
    with make_client(year) as client:
        body = client.get(f"/invoices/{planted.invoice.number}").text
    assert "planted" not in body and "duplicate_of" not in body and "expected_price" not in body


def test_seed_command_year_profile(db, capsys):
    call_command("sandbox_seed", "--email", "y@example.com", "--token", "tok", "--invoices", "200",
                 "--profile", "year")
    account = SandboxAccount.objects.get(email="y@example.com")
    assert SandboxInvoice.objects.filter(account=account).count() == 200
    assert "Seeded y@example.com: 200 invoices" in capsys.readouterr().out
