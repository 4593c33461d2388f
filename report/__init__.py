"""Search query language, weekly publicity report, outcomes, re-analysis and the end-to-end demo."""
