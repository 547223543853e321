"""``promotion-bot demo``: the sandbox and the bot on loopback, playing the promotion story."""
