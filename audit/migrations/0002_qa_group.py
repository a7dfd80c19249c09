from django.db import migrations
from django.db.models import Q

from audit.roles import QA_GROUP, _create_missing_permissions


def create_qa_group(apps, schema_editor):
    # The QA group as it was first made; 0004 sets every role's permissions.
    _create_missing_permissions(apps)
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=QA_GROUP)
    group.permissions.add(
        *apps.get_model("auth", "Permission").objects.filter(
            Q(content_type__app_label="audit", codename__startswith="view_")
            | Q(content_type__app_label="providers", codename__in=("view_provider", "view_model"))
        )
    )


def remove_qa_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=QA_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_call_records_chain_rollups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("providers", "0001_initial_providers_and_models"),
    ]

    operations = [migrations.RunPython(create_qa_group, remove_qa_group)]
