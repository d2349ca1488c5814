"""The dashboard's page, charts and stylesheet: everything it shows is served from here."""
