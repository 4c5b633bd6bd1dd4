"""Pure parsers of what sources answer (feeds, sitemaps, search results, API answers, aggregator links):
functions of a response body, tested directly on real recordings; spiders call them."""
