"""Elasticsearch stage: local server manager, mappings, time-based indices, bulk writer and spool."""
