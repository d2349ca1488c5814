"""Storage and messaging adapters for referral intake."""
