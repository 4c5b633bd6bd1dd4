"""seedtrack's downloader middlewares, one module each: back-off, conditional requests, private-address guard."""
