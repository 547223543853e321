"""Promotion Bot: GitOps environment promotion by pull request."""
