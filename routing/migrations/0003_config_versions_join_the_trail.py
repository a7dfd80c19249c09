from django.db import migrations

from audit.trail import adopt_rows


def adopt_versions(apps, schema_editor):
    # Versions published before they joined the governance trail join it as they are.
    adopt_rows(apps, ["config_version"])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0008_sign_offs_join_the_trail"),
        ("routing", "0002_add_config_versions"),
    ]

    operations = [
        migrations.RunPython(adopt_versions, migrations.RunPython.noop),
    ]
