"""Presence: who is online in which room, shared by every server process through the database."""
