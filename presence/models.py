"""Who is connected where: one row per live socket, shared by every server process."""

from django.conf import settings
from django.db import models

from jabber import clock


class Connection(models.Model):
    # The socket's key: its server process's hub channel, "#", a number.
    socket_key = models.CharField(max_length=200, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    # A room id, not a foreign key: presence sits below chat and must not import it.
    room_id = models.BigIntegerField(db_index=True)
    # The channel of the server process's fan-out hub, so pruning a dead process
    # can take that hub out of the room's group too.
    hub_channel = models.CharField(max_length=200, blank=True)
    connected = models.DateTimeField(default=clock.utcnow)
    last_seen = models.DateTimeField(default=clock.utcnow, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["room_id", "user"], name="connection_room_user")]

    def __str__(self) -> str:
        return f"{self.user} in room {self.room_id}"
