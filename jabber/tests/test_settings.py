"""Settings that refuse to run unsafely and say why (SPEC §15), and EMAIL_URL."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from jabber.settings import email_settings

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """manage.py in a fresh process, with the given environment over a clean one."""
    base = {
        key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "EMAIL_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_debug_and_without_a_secret_key_the_server_refuses_to_start():
    result = run_manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_mode_runs_with_the_development_key():
    assert run_manage("check", DJANGO_DEBUG="1").returncode == 0


def test_check_deploy_reports_that_no_email_is_configured():
    result = run_manage(
        "check",
        "--deploy",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_SECURE="1",
        DJANGO_ALLOWED_HOSTS="chat.example.com",
    )
    assert "jabber.W001" in result.stdout + result.stderr


def test_production_sends_no_mail_to_the_console_without_email_url():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.EMAIL_BACKEND)",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    )
    assert result.stdout.splitlines()[-1] == "django.core.mail.backends.dummy.EmailBackend"


def test_email_url_configures_smtp_with_starttls():
    assert email_settings("smtp://jabber:s%40cret@smtp.example.com:587") == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "jabber",
        "EMAIL_HOST_PASSWORD": "s@cret",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
    }


def test_email_url_configures_implicit_tls():
    settings = email_settings("smtps://mail.example.com")
    assert (settings["EMAIL_PORT"], settings["EMAIL_USE_SSL"]) == (465, True)
