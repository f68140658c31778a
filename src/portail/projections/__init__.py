"""Read models built from the event log, with their tracking position in the same transaction."""
