"""Read models kept up to date from the topics; each can be rebuilt by replaying them."""
