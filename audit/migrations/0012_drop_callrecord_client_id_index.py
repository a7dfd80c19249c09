# No query reads call records by client id through this index: usage figures
# (and the budget checks that fall back on them) read the roll-ups, by client id,
# plus the records recorded since the last roll-up, which the recorded_at index
# finds (EXPLAIN at a million rows: an index scan on callrecord_recorded). It cost
# every batch of records one more index to update.

from django.db import migrations

from audit.migrations import _online


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ("audit", "0011_callrecord_started_seq_index"),
    ]

    operations = [
        _online.RemoveIndexOnline(model_name="callrecord", name="callrecord_client_id"),
    ]
