"""notify's rules (targets, subscriptions, the 24-hour clock), free of frameworks and storage."""
