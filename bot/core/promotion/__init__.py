"""Promotion: which version goes to which environment next, whether its gates let it in now,
and the branch, files, title and body of the pull request that takes it there."""
