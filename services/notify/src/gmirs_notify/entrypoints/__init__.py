"""How the outside world reaches notify: the HTTP API and the delivery dispatcher."""
