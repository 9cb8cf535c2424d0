"""Moves every authenticator of django-otp's TOTPDevice (key in plain hex) to
EncryptedTOTPDevice, encrypting its key, in each schema this migration runs in
(migrate_schemas runs it in the public schema and in every cooperative's)."""

from binascii import unhexlify

from django.db import migrations

from ebok.keys import ciphers
from ebok.keys.keyring import OTP_KEYS

CARRIED = (
    "user_id",
    "name",
    "confirmed",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "created_at",
    "last_used_at",
    "step",
    "t0",
    "digits",
    "tolerance",
    "drift",
    "last_t",
)


def encrypt_existing_keys(apps, schema_editor):
    plain = apps.get_model("otp_totp", "TOTPDevice").objects.using(schema_editor.connection.alias)
    encrypted = apps.get_model("keys", "EncryptedTOTPDevice")
    devices = list(plain.all())
    if not devices:
        return
    tokens = ciphers.cipher(OTP_KEYS).encrypt([unhexlify(device.key) for device in devices])
    encrypted.objects.using(schema_editor.connection.alias).bulk_create(
        encrypted(encrypted_key=token, **{field: getattr(device, field) for field in CARRIED})
        for device, token in zip(devices, tokens, strict=True)
    )
    plain.filter(pk__in=[device.pk for device in devices]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("keys", "0001_initial"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(encrypt_existing_keys, migrations.RunPython.noop)]
