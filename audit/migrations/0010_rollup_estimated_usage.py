"""Roll-ups count the calls and tokens whose usage the gateway estimated.

Existing roll-ups get them from the call records they were made of (only the
estimated ones are read); hours whose records were pruned keep 0."""

from django.db import migrations, models
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncHour

GROUP_BY = ("client_id", "client_name", "provider", "model", "method", "outcome",
            "error_class", "strategy")  # fmt: skip


def count_estimated_usage(apps, schema_editor):
    CallRecord = apps.get_model("audit", "CallRecord")
    HourlyRollup = apps.get_model("audit", "HourlyRollup")
    RollupState = apps.get_model("audit", "RollupState")
    state = RollupState.objects.filter(pk=1).first()
    if state is None:
        return  # nothing rolled up yet
    records = CallRecord.objects.filter(usage_estimated=True, recorded_at__lt=state.rolled_through)
    groups = records.values(*GROUP_BY, hour=TruncHour("started_at")).annotate(
        calls=Count("pk"), tokens=Sum(F("input_tokens") + F("output_tokens"))
    )
    for group in groups.order_by():
        calls, tokens = group.pop("calls"), group.pop("tokens")
        HourlyRollup.objects.filter(**group).update(estimated_calls=calls, estimated_tokens=tokens)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0009_seal_verifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="hourlyrollup",
            name="estimated_calls",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="hourlyrollup",
            name="estimated_tokens",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(count_estimated_usage, migrations.RunPython.noop),
    ]
