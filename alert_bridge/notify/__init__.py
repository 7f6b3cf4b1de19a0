"""Email: the outbox sender, message composition and templates, and SMTP / file transports."""
