"""The desk stores passwords with Django's strong default hasher; only the test suite swaps in
a quick one (tests/conftest.py), so what a test proves about signing in holds for the desk."""

from django.conf import global_settings

import aftersales.settings as desk_settings

STRONG = {
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
}


def test_the_desk_hashes_new_passwords_with_a_strong_hasher():
    hashers = getattr(desk_settings, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)
    assert hashers[0] in STRONG
    assert not any("MD5" in hasher or "Unsalted" in hasher for hasher in hashers)


def test_the_suite_hashes_quickly(settings):
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
