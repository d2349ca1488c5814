"""Intake use cases: one module per way a referral arrives."""
