"""The revisions, oldest first: ``0001`` procrastinate's schema, ``0002`` the bot's tables,
``0003`` the writes sent (the shared write pace)."""
