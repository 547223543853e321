"""Versions: SemVer 2.0.0 values, Masterminds/semver v3 constraints, tag policies and the
pick of a tag under one. Depends on nothing else in the core."""
