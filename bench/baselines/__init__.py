"""Reference servers speaking Jabber's `message` frames: Channels tutorial, bare websockets."""
