"""The work the commands start: a crawl (runner), the schedule daemon, retag, status, and settings overrides."""
