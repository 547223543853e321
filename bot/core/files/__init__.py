"""Image references in environment files: the image reference grammar, YAML parsed with exact
positions, finding images and editing their tags byte-exactly. Depends on nothing else in the
core."""
