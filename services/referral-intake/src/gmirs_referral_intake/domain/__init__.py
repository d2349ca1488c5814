"""Intake's rules (routing, identity of a referral), free of frameworks and storage."""
