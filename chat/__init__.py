"""Chat: rooms, messages, the WebSocket consumer, the services holding every rule, pages, admin."""
