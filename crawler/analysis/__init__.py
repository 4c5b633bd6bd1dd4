"""Reading the timeline: spike alerts (``alerts``: webhook and e-mail) and the HTML report (``report``, with
its inline SVG ``charts``). The spikes themselves are the ``spikes`` view (``crawler/storage/alerts.py``)."""
