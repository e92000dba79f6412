"""The rooms of the person looking at a page, for the sidebar every chat page shows."""

from django import template

from chat import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def my_rooms(context) -> list[dict]:
    """The ROOM entries of the logged-in user (as `hello.rooms`), or none for anyone else."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return selectors.rooms_for(user)
