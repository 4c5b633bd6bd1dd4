"""Text utilities every stage shares: URLs and document ids, dates and durations, languages, term matching."""
