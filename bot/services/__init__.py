"""Use cases, one module per trigger family, written against small ports."""
