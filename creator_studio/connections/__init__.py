"""Connected platform accounts: tokens encrypted at rest, refreshed before expiry, never logged."""
