"""Asking the knowledge base: search (the full-text index), query (offline, retrieve-then-answer, agent) and chat.

Every read here answers from one committed snapshot of the registry (page text included) and never takes the
exclusive lock: a writer is never kept waiting by a reader, and a reader never sees half a change.
"""
