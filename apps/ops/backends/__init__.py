"""Database backends: Django's, with the runtime's connection policy."""
