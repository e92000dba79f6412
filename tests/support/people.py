"""The cast of the in-process tests: ann and bob, a moderator, and the lobby."""

import pytest

from accounts.tests.factories import ModeratorFactory, UserFactory
from chat.tests.factories import RoomFactory


@pytest.fixture
def ann():
    return UserFactory(username="ann")


@pytest.fixture
def bob():
    return UserFactory(username="bob")


@pytest.fixture
def mod():
    return ModeratorFactory(username="mod")


@pytest.fixture
def lobby():
    return RoomFactory(name="lobby")
