"""The realtime layer of one server process: subscriptions, batching, presence announcements.

``runtime.Runtime`` composes the parts, one per event loop: the ``hub`` (the
process's channel-layer subscriptions and the dispatch of events to local
sockets), the ``batching`` queues in front of the database, the presence
``announcer`` (throttled) and the ``pruner``. ``commands`` holds what each client
command does on a socket (the consumer's handlers). Events themselves are declared in
``jabber.events``; the bytes reach sockets through ``chat.transport``.
"""
