"""Files and images (SPEC §14): uploads checked and stored, served only to readers of the room."""
