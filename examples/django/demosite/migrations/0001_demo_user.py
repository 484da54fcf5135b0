"""The example's one user, to log in with: demo / demo-password."""

from django.contrib.auth.hashers import make_password
from django.db import migrations


def add_demo_user(apps, schema_editor):
    User = apps.get_model("auth", "User")
    User.objects.create(username="demo", password=make_password("demo-password"))


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(add_demo_user, migrations.RunPython.noop)]
