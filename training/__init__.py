"""Training and evaluation scripts for the NLP stage (run by hand; the runtime package `nlp` never imports this)."""
