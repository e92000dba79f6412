from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from jabber.views import healthz

urlpatterns = [
    path("", RedirectView.as_view(url="/chat/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("chat/", include("chat.urls")),
]
