"""The search engine behind the CLI, the web pages and alert rules: query language, execution, highlighting, exports."""
