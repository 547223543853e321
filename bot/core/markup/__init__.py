"""What the bot writes on GitHub: safe Markdown building blocks and the hidden metadata that
marks its own PRs, comments and issues. Depends on nothing else in the core."""
