"""Email and channels: the notification context, composition, templates, the outbox sender and transports."""
