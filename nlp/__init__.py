"""Russian NLP stage: brand mentions, homonyms, tone, context, reprints and lemmas."""
