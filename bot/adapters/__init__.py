"""Outbound I/O: GitHub (githubkit), the job queue, the clock."""
