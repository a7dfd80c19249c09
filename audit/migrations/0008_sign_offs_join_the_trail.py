from django.db import migrations

from audit.trail import adopt_rows


def adopt_sign_offs(apps, schema_editor):
    # Sign-offs recorded before they joined the governance trail join it as they are.
    adopt_rows(apps, ["sign_off"])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_pilots_checklists_backlog_uat_runs"),
    ]

    operations = [
        migrations.RunPython(adopt_sign_offs, migrations.RunPython.noop),
    ]
