"""Use cases: load aggregates, let the domain decide, save atomically with audit metadata."""
