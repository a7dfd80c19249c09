# The list's order and the CSV export's keyset read (started_at, seq); the index
# on started_at alone gives way to it. On PostgreSQL both changes run
# CONCURRENTLY, so the gateway keeps writing call records while a large table's
# index is built (minutes at ten million rows); SQLite builds it in place.

from django.db import migrations, models

from audit.migrations._online import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ("audit", "0010_rollup_estimated_usage"),
    ]

    operations = [
        AddIndexOnline(
            model_name="callrecord",
            index=models.Index(fields=["started_at", "seq"], name="callrecord_started_seq"),
        ),
        RemoveIndexOnline(
            model_name="callrecord",
            name="callrecord_started",
        ),
    ]
