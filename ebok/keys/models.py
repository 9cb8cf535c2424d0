import os

from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebok.keys import ciphers
from ebok.keys.keyring import OTP_KEYS

TOTP_KEY_BYTES = 20  # 160 bits, RFC 4226's recommendation (django-otp's default too)


def new_encrypted_key() -> str:
    """A fresh random TOTP key, encrypted before it is ever stored."""
    return ciphers.encrypt(OTP_KEYS, os.urandom(TOTP_KEY_BYTES))


class EncryptedTOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238) whose key is stored encrypted, by Fernet
    under ``OTP_KEY_ENCRYPTION_KEYS`` or by Vault Transit (ASVS 2.8.2, 6.4.2): django-otp's
    TOTPDevice keeps it as plain hex. Verification and the otpauth:// address are django-otp's
    own code; only where the key comes from differs (docs/decisions/0781, 0783)."""

    encrypted_key = models.TextField(default=new_encrypted_key, editable=False)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = "TOTP device (encrypted key)"

    @property
    def bin_key(self) -> bytes:
        # Decrypted at each use: with Vault Transit the key-encryption key never leaves Vault.
        return ciphers.decrypt(OTP_KEYS, self.encrypted_key)

    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings
