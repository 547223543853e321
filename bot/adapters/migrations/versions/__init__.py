"""The revisions, oldest first: ``0001`` procrastinate's schema, ``0002`` the bot's tables."""
