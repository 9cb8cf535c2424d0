from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's recommended profile (19 MiB, 2 passes, 1 lane).

    Django's default (100 MiB, 8 lanes) costs ~10× the CPU per login here,
    which turns a burst of logins into seconds of queueing on a small box.
    Hashes keep the ``argon2`` algorithm name, so older ones still verify
    and are upgraded at the next login.
    """

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
