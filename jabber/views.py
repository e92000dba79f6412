"""Project-level views that belong to no app."""

import asyncio
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _check_channel_layer() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "healthz.ping"})
    await layer.receive(channel)


async def healthz(request) -> JsonResponse:
    """Report whether the database and the channel layer answer."""
    status = {}
    try:
        await sync_to_async(_check_database)()
        status["db"] = "ok"
    except Exception as error:
        logger.warning("healthz: database failed: %s", error)
        status["db"] = "failed"
    try:
        await asyncio.wait_for(_check_channel_layer(), timeout=3)
        status["channel_layer"] = "ok"
    except Exception as error:
        logger.warning("healthz: channel layer failed: %r", error)
        status["channel_layer"] = "failed"
    healthy = all(value == "ok" for value in status.values())
    return JsonResponse(status, status=200 if healthy else 503)
