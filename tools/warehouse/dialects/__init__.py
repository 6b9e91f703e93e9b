"""One object per warehouse backend holding everything that backend does its own way; registry.py lists them."""
