"""Two-factor logins in tests: an enrolled authenticator and its current code,
computed as the phone app would (RFC 6238, django_otp.oath)."""

from django_otp.oath import TOTP

from ebok.keys.models import EncryptedTOTPDevice as TOTPDevice


def enrol(user) -> TOTPDevice:
    """The account's confirmed authenticator (made if it has none); in the current schema."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def code_for(device: TOTPDevice) -> str:
    """The code an app shows now, or the next step's if this one was already used
    (within the device's tolerance of one step)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if totp.t() <= device.last_t:
        totp.time = device.t0 + (device.last_t + 1 - device.drift) * device.step
    return f"{totp.token():0{device.digits}d}"


def pass_second_factor(client, code: str, path: str = "/panel/otp/"):
    """Verify the client's (password-logged-in) session with a code."""
    response = client.post(path, {"code": code})
    assert response.status_code == 302, response
    return response


def enrol_through_the_page(client, schema_name: str, login: str, path="/panel/otp/setup/"):
    """Set up the authenticator as a person would: open the page (QR code and key),
    type the app's first code. Returns the recovery codes shown."""
    from django_tenants.utils import schema_context

    page = client.get(path)
    assert page.status_code == 200, page
    with schema_context(schema_name):
        device = TOTPDevice.objects.get(user__login=login, confirmed=False)
        code = code_for(device)
    shown = client.post(path, {"code": code})
    assert shown.status_code == 200 and shown.context["codes"], shown
    return shown.context["codes"]


def code_from_key(secret: str) -> str:
    """The current code for a key as shown on the set-up page (base32, in groups)."""
    from base64 import b32decode

    key = "".join(secret.split()).upper()
    return f"{TOTP(b32decode(key + '=' * (-len(key) % 8))).token():06d}"
