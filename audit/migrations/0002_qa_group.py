from django.db import migrations

from audit.roles import QA_GROUP, ensure_qa_group


def create_qa_group(apps, schema_editor):
    ensure_qa_group(apps)


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
