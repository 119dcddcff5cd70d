"""Prospects written before the search column existed are found without accents after it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from prospects.models import Prospect

BEFORE = [("prospects", "0012_normalised_fields")]


@pytest.mark.django_db(transaction=True)
def test_existing_prospects_get_their_folded_search_key():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    workspace = apps.get_model("prospects", "Workspace").objects.create(
        name="Avant", name_key="avant", slug="avant"
    )
    apps.get_model("prospects", "Prospect").objects.create(
        workspace=workspace, first_name="Hélène", last_name="Ménard", email="h.menard@acme.fr"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    prospect = Prospect.objects.for_workspace(workspace.pk).get()
    assert prospect.search_key == "helene menard h menard acme fr"
