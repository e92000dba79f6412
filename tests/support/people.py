"""The cast of the in-process tests: ann and bob, a moderator, and the lobby."""

import pytest

from accounts.tests.factories import ModeratorFactory, UserFactory
from chat.tests.factories import RoomFactory


@pytest.fixture
def ann():
    """A user named ann."""
    return UserFactory(username="ann")


@pytest.fixture
def bob():
    """A user named bob."""
    return UserFactory(username="bob")


@pytest.fixture
def mod():
    """A moderator named mod (staff, in the Moderators group)."""
    return ModeratorFactory(username="mod")


@pytest.fixture
def lobby():
    """The room named lobby."""
    return RoomFactory(name="lobby")
