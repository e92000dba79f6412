"""Management commands of the presence app."""
