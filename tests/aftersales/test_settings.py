"""Configuration: production settings pass Django's deploy check, defaults are safe."""

import logging
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from aftersales.logging import RedactPersonalData, redact

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        DEBUG="0",
        SECRET_KEY="x" * 20 + "production-secret-key-with-enough-entropy-0123456789",
        ALLOWED_HOSTS="desk.example.com",
        VAR_DIR=str(tmp_path),
    )
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(DEBUG="0", VAR_DIR=str(tmp_path))
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_time_language_and_sessions():
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert "en" in dict(settings.LANGUAGES)
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert not settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_TOUCH_SECONDS <= 60


def test_logs_never_carry_a_phone_number_or_session_id():
    assert redact("buyer 13812345678 called") == "buyer 138****5678 called"
    assert "abc123" not in redact("Cookie: sessionid=abc123; csrftoken=z")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "phone %s", ("13912345678",), None)
    RedactPersonalData().filter(record)
    assert "13912345678" not in record.getMessage()


def test_no_migration_is_missing():
    env = dict(os.environ)
    result = _manage("makemigrations", "--check", "--dry-run", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
