"""The password hasher: Argon2id, tuned for the reference machine (2 cores, shared).

Django's Argon2 defaults (100 MiB, 8 lanes) take about 0.9 s a login on 2 busy cores, and
a few logins at once would hold hundreds of megabytes. 64 MiB, 2 passes and 2 lanes (one
per core) stay above OWASP's minimum for Argon2id (19 MiB, 2 passes) and take about 0.15 s
on an idle reference machine, 0.6 s at a load of 8 (bench/README.md). Hashes are standard
``argon2`` hashes: Django's own hasher verifies them, and a hash made with other parameters
(or with PBKDF2, the previous default) is re-made with these on the next login.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class FangkongArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 65536  # KiB
    parallelism = 2
