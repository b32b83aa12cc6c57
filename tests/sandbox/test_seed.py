"""Deterministic demo data and its planted mistakes."""

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from alegra_sandbox import services
from alegra_sandbox.documents import recompute
from alegra_sandbox.models import SandboxAccount, SandboxInvoice, SandboxPlantedMistake
from alegra_sandbox.services import SeedError

TODAY = dt.date(2025, 6, 30)


def seeded(email, seed=42, invoices=400, **kwargs):
    account = services.account_create(email=email, token="t")
    services.seed(account, seed=seed, invoices=invoices, today=TODAY, **kwargs)
    account.refresh_from_db()
    return account


def documents(account):
    return list(SandboxInvoice.objects.filter(account=account).order_by("number")
                .values_list("document", flat=True))


def mistakes(account):
    return [(m.invoice.number, m.kind, m.detail) for m in
            SandboxPlantedMistake.objects.filter(account=account).select_related("invoice").order_by("invoice__number", "kind")]


@pytest.fixture
def big(db):
    return seeded("seed-a@example.com", invoices=1200)


def test_same_seed_same_documents(db):
    a, b = seeded("a@example.com"), seeded("b@example.com")
    assert documents(a) == documents(b)
    assert mistakes(a) == mistakes(b)
    assert services.catalogue_list(a, "contact", {}, paged=False) == services.catalogue_list(b, "contact", {}, paged=False)
    c = seeded("c@example.com", seed=43)
    assert documents(c) != documents(a)


def test_every_document_is_consistent_with_the_arithmetic(big):
    for doc in documents(big):
        assert recompute(copy.deepcopy(doc)) == doc, doc["id"]
        paid = sum((Decimal(p["amount"]) for p in doc["payments"]), Decimal(0))
        assert Decimal(doc["totalPaid"]) == paid
        assert Decimal(doc["balance"]) == Decimal(doc["total"]) - paid
        assert 1 <= len(doc["items"]) <= 8


def test_realistic_variety(big):
    docs = documents(big)
    statuses = {d["status"] for d in docs}
    assert statuses == {"draft", "open", "closed", "void"}
    stamped = [d for d in docs if "stamp" in d]
    assert 0.3 < len(stamped) / len(docs) < 0.8
    assert all(len(d["stamp"]["cufe"]) == 96 and d["status"] in {"open", "closed"} for d in stamped)
    assert {d["stamp"]["legalStatus"] for d in stamped} >= {"STAMPED_AND_ACCEPTED",
                                                            "STAMPED_AND_ACCEPTED_WITH_OBSERVATIONS"}
    assert all(d["balance"] in {"0", "0.00"} for d in docs if d["status"] == "closed")
    partly = [d for d in docs if d["status"] == "open" and d["payments"]]
    assert partly
    assert {d["decimalPrecision"] for d in docs} == {"0", "2"}
    assert all(d["numberTemplate"]["fullNumber"] == f"FE{d['id']}" for d in docs)
    dates = [d["date"] for d in docs]
    assert dates == sorted(dates)  # ids grow with dates, as numbering does
    assert dt.date.fromisoformat(dates[0]) >= TODAY - dt.timedelta(days=550)
    assert dt.date.fromisoformat(dates[-1]) <= TODAY
    assert {t["percentage"] for d in docs for i in d["items"] for t in i["tax"]} >= {"0.00", "5.00", "19.00"}
    assert any(Decimal(i["quantity"]) % 1 for d in docs for i in d["items"])  # sold by kg or metre


def test_clients_are_colombian(big):
    contacts = services.catalogue_list(big, "contact", {}, paged=False)
    kinds = {c["identificationObject"]["type"] for c in contacts}
    assert kinds == {"NIT", "CC"}
    for contact in contacts:
        assert "@" in contact["email"] and contact["mobile"].startswith("3") and len(contact["mobile"]) == 10
        assert contact["address"]["city"]
        if contact["identificationObject"]["type"] == "NIT":
            assert contact["identificationObject"]["dv"].isdigit()


def test_planted_mistakes_are_in_the_documents(big):
    planted = mistakes(big)
    assert {kind for _, kind, _ in planted} == {"wrong_price", "wrong_tax", "odd_quantity", "duplicate_invoice"}
    items = {i["id"]: i for i in services.catalogue_list(big, "item", {}, paged=False)}
    docs = {int(d["id"]): d for d in documents(big)}
    for number, kind, detail in planted:
        doc = docs[number]
        if kind == "duplicate_invoice":
            original = docs[int(detail["duplicate_of"])]
            assert doc["client"] == original["client"] and doc["date"] == original["date"]
            strip = [(i["id"], i["quantity"], i["price"], i["discount"]) for i in doc["items"]]
            assert strip == [(i["id"], i["quantity"], i["price"], i["discount"]) for i in original["items"]]
            continue
        line = doc["items"][detail["line"]]
        assert line["id"] == detail["item"]
        if kind == "wrong_price":
            assert Decimal(line["price"]) == Decimal(detail["expected_price"]) * 10
            list_prices = {Decimal(p["price"]) for p in items[line["id"]]["price"]}
            assert Decimal(line["price"]) not in list_prices
        elif kind == "wrong_tax":
            assert [t["id"] for t in line["tax"]] == [detail["actual_tax"]]
            assert detail["actual_tax"] != items[line["id"]]["tax"][0]["id"]
        else:
            assert Decimal(line["quantity"]) == Decimal(detail["quantity"])


def test_seed_refuses_an_account_with_data_unless_reset(db):
    account = seeded("r@example.com", invoices=50)
    first = documents(account)
    with pytest.raises(SeedError):
        services.seed(account, seed=42, invoices=50, today=TODAY)
    services.seed(account, seed=42, invoices=50, today=TODAY, reset=True)
    assert documents(account) == first


def test_precision_zero(db):
    account = seeded("p@example.com", invoices=100, precision=0)
    docs = documents(account)
    assert account.decimal_precision == 0
    assert docs[-1]["decimalPrecision"] == "0" and docs[0]["decimalPrecision"] == "2"
    assert all("." not in d["total"] for d in docs if d["decimalPrecision"] == "0")


def test_seeded_invoices_are_served(big):
    from alegra_sandbox.testing import make_client

    with make_client(big) as client:
        body = client.get("/invoices", params={"metadata": "true", "limit": 30}).json()
        assert body["metadata"]["total"] == 1200 and body["data"][0]["id"] == "1200"
        planted = SandboxPlantedMistake.objects.filter(account=big).first()
        assert client.get(f"/invoices/{planted.invoice.number}").status_code == 200


def test_seed_command(db, capsys):
    args = ["sandbox_seed", "--email", "cmd@example.com", "--token", "tok", "--invoices", "30", "--seed", "7"]
    call_command(*args)
    out = capsys.readouterr().out
    assert "Seeded cmd@example.com: 30 invoices" in out
    account = SandboxAccount.objects.get(email="cmd@example.com")
    assert account.token == "tok"
    with pytest.raises(CommandError):
        call_command(*args)
    call_command(*args, "--reset", "--precision", "0", "--name", "Otra S.A.S.")
    account.refresh_from_db()
    assert (account.decimal_precision, account.name) == (0, "Otra S.A.S.")
    assert SandboxInvoice.objects.filter(account=account).count() == 30
