"""Shipped data: the labelled homonym set."""
