"""Runs: their records and trajectories, approvals, and the idempotency ledger of side effects."""
