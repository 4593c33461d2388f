"""Shipped data: example brand cards and the labelled homonym set."""
