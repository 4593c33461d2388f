"""Rezonans core: the shared article/mention model, settings and JSONL helpers used by every stage."""

__version__ = "0.1.0"
