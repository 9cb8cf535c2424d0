"""Every table has a class in docs/security/DATA-CLASSIFICATION.md (ASVS 1.8.1, 8.3.4):
a new model without one fails here, so the classification cannot fall behind."""

import re

from django.apps import apps

from tests.support.processes import ROOT

DOC = (ROOT / "docs/security/DATA-CLASSIFICATION.md").read_text()
CLASSES = ("secret", "personal-financial", "personal", "internal", "public")


def test_every_table_is_named_in_the_inventory_with_a_class():
    inventory = DOC.split("## Inventory", 1)[1].split("## Rules for new data", 1)[0]
    rows = [line for line in inventory.splitlines() if line.startswith("| `")]
    for row in rows:
        assert any(word in row.rsplit("|", 2)[1] for word in CLASSES), row
    named = set(re.findall(r"`([a-z_]+)[`.]", "\n".join(rows)))
    tables = {model._meta.db_table for model in apps.get_models()}
    assert tables - named == set()
