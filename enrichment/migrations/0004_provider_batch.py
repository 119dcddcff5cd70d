# A Dropcontact batch becomes a provider batch: any submit-then-poll request has its shape.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enrichment', '0003_batch_lease_token'),
        ('prospects', '0008_objected_reason'),
    ]

    operations = [
        migrations.RenameModel(old_name='DropcontactBatch', new_name='ProviderBatch'),
        migrations.AlterModelOptions(
            name='providerbatch',
            options={'ordering': ['-created_at'], 'verbose_name': 'provider batch', 'verbose_name_plural': 'provider batches'},
        ),
        migrations.AddField(
            model_name='providerbatch',
            name='provider',
            field=models.CharField(default='dropcontact', max_length=32, verbose_name='provider'),
        ),
        migrations.RenameIndex(
            model_name='providerbatch',
            new_name='enrichment__status_f3333f_idx',
            old_name='enrichment__status_821570_idx',
        ),
    ]
