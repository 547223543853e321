"""Inbound: the web app, webhook intake, the scheduler."""
