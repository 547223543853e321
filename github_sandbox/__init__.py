"""A GitHub-compatible server backed by real git repositories, for demos and tests."""
