"""Match keys longer than their column, as SQLite let them be stored, computed again.

SQLite does not enforce a column's length: a company or a person with a long non-Latin name
may have a key that the bounded keys of `normalize` would no longer match (the same file
imported again would create them twice). PostgreSQL refused such keys, so there it finds
nothing to do. Only rows with a long key, or whose company has one, are read.
"""

from django.db import migrations
from django.db.models import Q
from django.db.models.functions import Length


def bound_match_keys(apps, schema_editor):
    from prospects import normalize

    Company = apps.get_model("prospects", "Company")
    Prospect = apps.get_model("prospects", "Prospect")
    long_companies = Company.objects.annotate(key_length=Length("name_key")).filter(
        key_length__gt=normalize.COMPANY_KEY_LENGTH
    )
    company_ids = []
    for company in long_companies:
        company.name_key = normalize.company_name_key(company.name)
        company.save(update_fields=["name_key"])
        company_ids.append(company.pk)
    prospects = (
        Prospect.objects.annotate(key_length=Length("name_key"))
        .filter(Q(key_length__gt=normalize.NAME_KEY_LENGTH) | Q(company__in=company_ids))
        .select_related("company")
    )
    for prospect in prospects:
        company = prospect.company
        company_key = normalize.company_key(company.domain, company.name) if company else ""
        prospect.name_key = normalize.name_key(prospect.first_name, prospect.last_name, company_key)
        prospect.save(update_fields=["name_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("prospects", "0004_workspace_access"),
    ]

    operations = [
        migrations.RunPython(bound_match_keys, migrations.RunPython.noop, elidable=True),
    ]
