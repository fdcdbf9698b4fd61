"""Who knows whom, from what was there before the screener: connections both ways,
and every member who wrote an ordinary message to the others in its conversation."""

from django.db import migrations


def backfill(apps, schema_editor):
    contact = apps.get_model("triage", "Contact")._meta.db_table
    connection = apps.get_model("network", "Connection")._meta.db_table
    message = apps.get_model("messaging", "Message")._meta.db_table
    participant = apps.get_model("messaging", "Participant")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {contact} (member_id, other_id, why, since) "  # noqa: S608
            f"SELECT member_id, other_id, 'connected', created_at FROM {connection} WHERE 1 = 1 "
            "ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            f"INSERT INTO {contact} (member_id, other_id, why, since) "  # noqa: S608
            f"SELECT m.sender_id, p.member_id, 'wrote', MIN(m.sent_at) FROM {message} m "
            f"JOIN {participant} p ON p.conversation_id = m.conversation_id "
            "WHERE p.member_id <> m.sender_id AND m.kind = 'normal' "
            "GROUP BY m.sender_id, p.member_id ON CONFLICT DO NOTHING"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("triage", "0001_initial"),
        ("network", "0002_invitation_label_codes_invitation_labels"),
        ("messaging", "0004_remove_participant_participant_inbox_and_more"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
