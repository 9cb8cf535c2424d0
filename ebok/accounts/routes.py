"""The second step's routes every area (portal, panel) has: the code, its set-up, the
recovery codes and a security key's login, each under the area's own words."""

from django.urls import path

from ebok.accounts import security_key_views as keys
from ebok.accounts import two_factor_views as otp


def second_step_paths(guard, area: str, routes: dict[str, str]) -> list:
    """``routes`` names the paths of verify, setup, recovery_codes, key_options and
    key_login; ``guard`` wraps the recovery codes, the only one behind a full login."""
    views = {
        "otp_verify": (routes["verify"], otp.verify),
        "otp_setup": (routes["setup"], otp.setup),
        "otp_recovery_codes": (routes["recovery_codes"], guard(otp.recovery_codes)),
        "security_key_login_options": (routes["key_options"], keys.login_options),
        "security_key_login": (routes["key_login"], keys.login_verify),
    }
    return [path(route, view, {"area": area}, name=name) for name, (route, view) in views.items()]
