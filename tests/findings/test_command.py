"""`scan_anomalies`: the machine contract."""

import json

import pytest
from django.core.management import CommandError, call_command

from findings.models import Finding
from tests.factories import make_company
from tests.factories.anomalies import body, history, line, mirror_catalogue, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def slipped(company):
    mirror_catalogue(company)
    history(company, count=6)
    return store(company, body(1, [line("1", "10", price="276470")], day=50))


def test_json_prints_only_the_open_findings(capsys, company, slipped):
    call_command("scan_anomalies", "--company", str(company.pk), "--json")
    out, err = capsys.readouterr()
    findings = json.loads(out)  # the whole of standard output is one JSON array
    assert isinstance(findings, list) and len(findings) == 1
    found = findings[0]
    assert {"id", "invoice_id", "number", "kind", "line", "severity", "confidence", "explanation",
            "suggestion"} <= set(found)
    assert (found["invoice_id"], found["number"], found["kind"], found["line"]) == ("1", "FE1", "price", 0)
    assert found["id"] == Finding.objects.get().pk and 0 <= found["confidence"] <= 1
    assert "276.470" in found["explanation"] and found["suggestion"]["type"] == "update"
    assert company.name in err  # the summary went to standard error


def test_by_name_and_in_english(capsys, company, slipped):
    call_command("scan_anomalies", "--company", company.name.upper(), "--json", "--language", "en")
    assert "A zero too many?" in json.loads(capsys.readouterr().out)[0]["explanation"]


def test_every_company_and_a_summary(capsys, company, slipped):
    other = make_company(name="Vacía S.A.S.")
    call_command("scan_anomalies")
    out = capsys.readouterr().out
    assert company.name in out and other.name in out and "1 new" in out


def test_dismissed_findings_are_not_printed(capsys, company, slipped, accountant):
    call_command("scan_anomalies", "--json")
    capsys.readouterr()
    Finding.objects.update(state="dismissed")
    call_command("scan_anomalies", "--json")
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize("wanted", ["Nadie", "²", "99999999999999999999"])
def test_no_such_company_is_a_one_line_error(capsys, company, wanted):
    """"²" passes str.isdigit() and fails int(): it was a traceback, not the contract's one line."""
    with pytest.raises(CommandError, match=f"no such company: {wanted}"):
        call_command("scan_anomalies", "--company", wanted, "--json")
    assert capsys.readouterr().out == ""
