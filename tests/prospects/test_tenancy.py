import pytest

from prospects.models import Company, Prospect
from prospects.tenancy import UnscopedQueryError
from tests.factories import CompanyFactory, ProspectFactory


def test_query_that_forgets_the_workspace_raises_instead_of_returning_everything(
    workspace, other_workspace
):
    ProspectFactory(workspace=workspace)
    ProspectFactory(workspace=other_workspace)
    for query in (
        lambda: list(Prospect.objects.all()),
        lambda: Prospect.objects.count(),
        lambda: Prospect.objects.filter(status="new").exists(),
        lambda: Prospect.objects.get(email__contains="@"),
        lambda: Prospect.objects.first(),
        lambda: Prospect.objects.update(job_title="x"),
        lambda: Prospect.objects.all().delete(),
        lambda: list(Prospect.objects.iterator()),
        lambda: list(Company.objects.values_list("name", flat=True)),
    ):
        with pytest.raises(UnscopedQueryError):
            query()
    assert Prospect.objects.unscoped().count() == 2


def test_for_workspace_returns_only_that_workspace(workspace, other_workspace):
    mine = ProspectFactory(workspace=workspace)
    ProspectFactory(workspace=other_workspace)
    assert list(Prospect.objects.for_workspace(workspace)) == [mine]
    assert list(Prospect.objects.for_workspace(workspace.pk)) == [mine]
    assert Prospect.objects.for_workspace(None).count() == 0


def test_an_or_cannot_widen_a_workspace_filter(workspace, other_workspace):
    from django.db.models import Q

    ProspectFactory(workspace=other_workspace)
    with pytest.raises(UnscopedQueryError):
        list(Prospect.objects.filter(Q(workspace=workspace) | Q(status="new")))


def test_related_managers_are_scoped_by_their_row(workspace):
    company = CompanyFactory(workspace=workspace)
    prospect = ProspectFactory(workspace=workspace, company=company)
    assert list(company.prospects.all()) == [prospect]
