import secrets

# No look-alikes: without 0/O/o, 1/l/I/i, 5/S, 2/Z, 8/B.
ISSUED_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679"  # noqa: S105
ISSUED_PASSWORD_LENGTH = 16


def generate_issued_password(length: int = ISSUED_PASSWORD_LENGTH) -> str:
    return "".join(secrets.choice(ISSUED_PASSWORD_ALPHABET) for _ in range(length))
