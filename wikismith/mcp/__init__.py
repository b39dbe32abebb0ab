"""`wikismith mcp`: the KB as a Model Context Protocol server (the official `mcp` SDK), for AI assistants.

    access.py   one KnowledgeBase per worker thread; each tool call is one KB API call (a change: one command)
    guard.py    what a client may add (URLs through the SSRF guard, paths under --allow-root) and HTTP checks
    server.py   the tools, their hints and the page resources, on stdio or streamable HTTP
"""
