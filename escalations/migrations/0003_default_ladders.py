from django.db import migrations


def install(apps, schema_editor):
    from escalations.defaults import install_default_ladders

    install_default_ladders(apps)


class Migration(migrations.Migration):
    dependencies = [("escalations", "0002_escalation_ladders")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
