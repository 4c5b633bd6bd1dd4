"""spaCy analysis of document text: model loading, the project's pipeline components and the batch tagger."""
