"""Typer command-line interface: a thin layer over functions in the stage packages."""
