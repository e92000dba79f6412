"""Channels does not end a socket when its session ends; these receivers do."""

from allauth.account.signals import password_changed, password_reset
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from accounts.services import close_sockets


@receiver(user_logged_out)
def close_session_sockets(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        close_sockets(session_key=session_key)


@receiver(password_changed)
@receiver(password_reset)
def close_sockets_after_password_change(sender, request, user, **kwargs) -> None:
    transaction.on_commit(lambda: close_sockets(user_id=user.pk))


@receiver(pre_save, sender=get_user_model())
def remember_previous_state(sender, instance, **kwargs) -> None:
    if instance.pk:
        previous = sender.objects.filter(pk=instance.pk).values("is_active", "password").first()
        instance._previous_state = previous


@receiver(post_save, sender=get_user_model())
def close_sockets_of_changed_user(sender, instance, created, **kwargs) -> None:
    previous = getattr(instance, "_previous_state", None)
    if created or not previous:
        return
    # Deactivation, or a password set from the admin or the shell, ends every session.
    if (previous["is_active"] and not instance.is_active) or previous[
        "password"
    ] != instance.password:
        transaction.on_commit(lambda: close_sockets(user_id=instance.pk))
