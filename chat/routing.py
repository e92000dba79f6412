from django.urls import re_path

from chat.consumers import ChatConsumer

# Any single path segment reaches the consumer, which refuses bad names with 403.
websocket_urlpatterns = [re_path(r"^ws/chat/(?P<room>[^/]+)/$", ChatConsumer.as_asgi())]
