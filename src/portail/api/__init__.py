"""The HTTP API: thin controllers over the application layer."""
