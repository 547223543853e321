"""Inbound: the web app, webhook intake (GitHub and other registries), translation of payloads
into core events, the routing table's job processor, and the first-run setup pages."""
