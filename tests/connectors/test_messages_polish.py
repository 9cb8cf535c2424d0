"""The import's errors reach staff in Polish: the connectors app ships a catalog."""

from django.utils import translation
from django_tenants.utils import schema_context

from connectors.models import SyncRun
from connectors.services import apply_package
from connectors.zsi.errors import PackageProblem
from tests.support.zsi import edit_cell, full_package


def test_a_rejected_packages_error_reads_in_polish(coop, tmp_path):
    package = full_package(tmp_path / "p1", code=coop.code)
    edit_cell(package, "LOKALE.CSV", 2, "POWIERZCHNIA", "12.5")

    with translation.override("pl"):
        result = apply_package(coop, package)
        assert result.outcome == "rejected"
        shown = [str(problem) for problem in result.problems]
        with schema_context(coop.schema_name):
            stored = SyncRun.objects.get(pk=result.run.pk).errors
        # What the panel's sync page shows: the stored record, rendered again.
        rendered = [str(PackageProblem(**error)) for error in stored]

    expected = (
        "LOKALE.CSV, wiersz 2, kolumna POWIERZCHNIA, wartość '12.5': niepoprawna liczba "
        "(nieujemna, z przecinkiem dziesiętnym; najwięcej miejsc po przecinku: 2)"
    )
    assert shown == [expected]
    assert rendered == [expected]
