"""The name-key migration never fails on existing data: colliding names get a numbered suffix."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from prospects.models import Workspace

BEFORE = [("prospects", "0002_fewer_prospect_indexes")]


@pytest.mark.django_db(transaction=True)
def test_existing_lookalike_names_are_suffixed_in_creation_order():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("prospects", "Workspace")
    old.objects.create(name="Acme France", slug="a")
    old.objects.create(name="acme  FRANCE", slug="b")
    old.objects.create(name="ACME France\u200b", slug="c")
    old.objects.create(name="Lyon", slug="d")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    names = dict(Workspace.objects.values_list("slug", "name"))
    assert names == {
        "a": "Acme France",
        "b": "acme FRANCE (2)",
        "c": "ACME France (3)",
        "d": "Lyon",
    }
    keys = list(Workspace.objects.values_list("name_key", flat=True))
    assert len(set(keys)) == 4
