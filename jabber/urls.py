"""The site's URLs: chat (and its files), accounts, admin and the health check."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views import preferences
from jabber.views import healthz

# The admin logs in through allauth, so its login is rate limited like the rest.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Jabber moderation"
admin.site.site_title = "Jabber admin"

urlpatterns = [
    path("", RedirectView.as_view(url="/chat/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/preferences/", preferences, name="preferences"),
    path("accounts/", include("allauth.urls")),
    # Ahead of chat.urls: /chat/search/ is the search page, not a room named "search".
    path("", include("search.urls")),
    path("chat/", include("files.urls")),
    path("chat/", include("chat.urls")),
]
