"""Training and evaluation of the stance models: the labelled sets, their readers, scoring and training.

Nothing a crawl, ``tag`` or ``retag`` runs imports this package (tests/test_architecture.py).
"""
