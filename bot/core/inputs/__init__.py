"""What reaches the bot from outside, as values: events handed to the use cases and slash
commands in comments."""
