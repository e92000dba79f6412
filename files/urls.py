"""File URLs, under each room's: upload, and the bytes of each attachment and its thumbnail."""

from django.urls import path

from chat import converters  # noqa: F401 (registers <room:>)
from files import views

app_name = "files"
urlpatterns = [
    path("<room:name>/upload/", views.upload, name="upload"),
    path("<room:name>/files/<int:attachment_id>/", views.download, name="download"),
    path("<room:name>/files/<int:attachment_id>/thumbnail/", views.thumbnail, name="thumbnail"),
]
