"""Rules: an explicit registry of checks over a read-only context, each turning problems into findings."""
