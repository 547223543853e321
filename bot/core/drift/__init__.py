"""Drift between environments: each environment against the one before it, in any layout.

``model`` holds the values (what an audit finds), ``audit`` computes them from what was read,
``report`` renders them (the drift-report issue, the terminal, JSON) and reads the boxes a
person ticked in the issue.
"""
