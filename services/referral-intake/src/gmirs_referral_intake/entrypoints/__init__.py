"""How referrals reach intake: the lead provider's direct-referral API (R&M events next)."""
