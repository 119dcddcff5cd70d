import unicodedata

from django.db import migrations

# Frozen copy of prospects.models.workspace_name_key: a migration must not follow later edits.
_LOOKALIKES = str.maketrans(
    {
        **dict(zip("авеіјкмнорстухѕԁԛԝһӏ", "abeijkmhopctyxsdqwhl", strict=True)),
        **dict(zip("αβεζηικμνορτυχϲı", "abezhikmnoptyxci", strict=True)),
    }
)


def _key(name):
    visible = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    folded = unicodedata.normalize("NFKC", " ".join(visible.split())).casefold()
    return folded.translate(_LOOKALIKES)


def refold_name_keys(apps, schema_editor):
    # A name now counted as the same as another's keeps its old key, so the unique constraint
    # holds and nothing is renamed behind anyone's back; the next edit of such a name is
    # refused until it no longer passes for the other.
    Workspace = apps.get_model("prospects", "Workspace")
    taken = set(Workspace.objects.values_list("name_key", flat=True))
    for workspace in Workspace.objects.order_by("pk"):
        key = _key(workspace.name)
        if key == workspace.name_key or key in taken:
            continue
        taken.discard(workspace.name_key)
        taken.add(key)
        workspace.name_key = key
        workspace.save(update_fields=["name_key"])


class Migration(migrations.Migration):
    dependencies = [("prospects", "0017_company_filter_index")]

    operations = [migrations.RunPython(refold_name_keys, migrations.RunPython.noop)]
