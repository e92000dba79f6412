"""ASGI entry point: HTTP through Django, WebSockets through the chat router."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jabber.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from files.uploads import BodySizeLimit  # noqa: E402
from jabber.origins import OriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Bodies over the upload limit are cut off before Django spools them.
        "http": BodySizeLimit(django_asgi_app),
        "websocket": OriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
