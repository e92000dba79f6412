import factory

from accounts.tests.factories import UserFactory
from presence.models import Connection


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    channel_name = factory.Sequence(lambda n: f"specific.test!{n}")
    user = factory.SubFactory(UserFactory)
    room_id = 1
