"""Search URLs: the page (under /chat/, ahead of room names) and the JSON API."""

from django.urls import path

from search import views

app_name = "search"
urlpatterns = [
    path("chat/search/", views.search_page, name="page"),
    path("api/search/", views.search_api, name="api"),
]
