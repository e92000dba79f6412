import factory

from accounts.tests.factories import UserFactory
from presence.models import Connection


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    socket_key = factory.Sequence(lambda n: f"specific.test!{n}#1")
    user = factory.SubFactory(UserFactory)
    room_id = 1
