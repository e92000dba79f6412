"""What accounts keep about people: whom each of them blocks."""

from django.conf import settings
from django.db import models

from jabber import clock


class Block(models.Model):
    """`blocker` no longer hears from `blocked`: no new direct messages, no sends into one."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created = models.DateTimeField(default=clock.utcnow)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_unique"),
            models.CheckConstraint(
                condition=~models.Q(blocker=models.F("blocked")), name="block_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.blocker} blocks {self.blocked}"
