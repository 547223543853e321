"""Review of pull requests to an environment: the meaningful diff, drift warnings, plaintext
secrets and the review comment that shows them."""
