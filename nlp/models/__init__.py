"""Shipped model artifacts (see README.md, the model card)."""
