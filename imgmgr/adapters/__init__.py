"""The local host's adapters of the ports: files, SQLite, JSONL events, upload policy, offline labeler.

They run only on the local host and live beside it, so that ``lambdas/`` holds exactly what ships to Lambda.
"""
