"""The case record's rules, free of frameworks and storage."""
