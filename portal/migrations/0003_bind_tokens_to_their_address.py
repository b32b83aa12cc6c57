"""Each stored Alegra token is encrypted again together with the company's API address: from now
on a token is read only for the address it was given for."""

from django.db import migrations


def bind(apps, schema_editor):
    from portal import crypto

    Company = apps.get_model("portal", "Company")
    for company in Company.objects.exclude(token_cipher="").iterator():
        try:
            plain = crypto.decrypt(company.token_cipher)
        except crypto.SecretUnreadable:
            continue  # unreadable with this key already: it must be given again either way
        if crypto.bound(plain) is not None:
            continue  # bound already
        Company.objects.filter(pk=company.pk).update(token_cipher=crypto.encrypt_for(company.base_url, plain))


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0002_user_preferences_and_notifications"),
    ]

    operations = [
        migrations.RunPython(bind, migrations.RunPython.noop),
    ]
