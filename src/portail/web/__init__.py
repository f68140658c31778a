"""The parents' web pages: server-rendered templates over the application services."""
