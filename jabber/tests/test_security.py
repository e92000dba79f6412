"""Security headers on every page, production settings that pass `check --deploy`, and healthz."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from accounts.tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]

PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/chat/",
    "/chat/lobby/",
    "/admin/",
    "/healthz",
]


@pytest.fixture
def client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(username="ann", is_staff=True))
    return client


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_the_security_headers(client, path):
    response = client.get(path, follow=True)
    assert response.status_code in (200, 403)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_login_sets_an_http_only_session_cookie(db):
    UserFactory(username="bob")
    response = Client().post("/accounts/login/", {"login": "bob", "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"]


def test_forms_carry_csrf_tokens(db):
    response = Client(enforce_csrf_checks=True).get("/accounts/login/")
    assert b"csrfmiddlewaretoken" in response.content
    refused = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"login": "x", "password": "y"}
    )
    assert refused.status_code == 403


def test_production_settings_pass_check_deploy():
    env = {
        **os.environ,
        "DJANGO_SECURE": "1",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "chat.example.com",
        "EMAIL_URL": "smtp://jabber:secret@smtp.example.com:587",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_set_secure_cookies_and_hsts():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)"
    )
    env = {
        **os.environ,
        "DJANGO_SECURE": "1",
        "DJANGO_SETTINGS_MODULE": "jabber.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["True", "True", "True"], result.stderr


def test_anonymous_chat_pages_redirect_to_login_with_next(db):
    response = Client().get("/chat/lobby/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/login/?next=/chat/lobby/"


def test_admin_login_goes_through_allauth(db):
    response = Client().get("/admin/login/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_healthz_reports_database_and_channel_layer():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"db": "ok", "channel_layer": "ok"}


@pytest.mark.django_db
def test_healthz_names_what_failed(monkeypatch):
    from jabber import views

    def broken() -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(views, "_check_database", broken)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"db": "failed", "channel_layer": "ok"}
