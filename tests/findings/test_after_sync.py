"""Findings appear as the mirror fills: a sync of a year of trade over the real client (in-process
HTTP into the sandbox), each page scanned once it commits, lands on what a full rescan finds."""

import pytest

from alegra_sandbox.models import SandboxPlantedMistake
from findings import scan
from findings.models import Finding
from invoices import sync
from tests.sync.conftest import connect  # noqa: F401 (the fixtures of the sync tests)
from tests.sync.conftest import clock  # noqa: F401


@pytest.mark.django_db
def test_a_synced_year_is_scanned_page_by_page(clock, django_capture_on_commit_callbacks):  # noqa: F811
    world = connect(clock, invoices=0, seed=None)
    from alegra_sandbox import services as sandbox

    sandbox.seed(world.account, seed=5, invoices=300, profile="year")
    with django_capture_on_commit_callbacks(execute=True):
        run = sync.sync_full(company=world.company, client=world.client(), with_catalogues=True)
    assert run.state == "succeeded"
    found = {(f, repr(e)) for f, e in Finding.objects.filter(company=world.company, state="open")
             .values_list("fingerprint", "evidence")}
    planted = SandboxPlantedMistake.objects.filter(account=world.account).count()
    assert planted > 5 and len(found) >= planted * 0.8
    scan.scan_full(company_id=world.company.pk)
    assert {(f, repr(e)) for f, e in Finding.objects.filter(company=world.company, state="open")
            .values_list("fingerprint", "evidence")} == found
