"""Use cases: (session, providers, input) -> result. No Reflex here."""
