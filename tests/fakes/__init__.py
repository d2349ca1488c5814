"""Stand-ins for the systems outside GMIRS Connect, run as real HTTP servers on loopback.

Each fake is both an ASGI app factory (for in-process tests) and a ``python -m`` program (for
end-to-end tests that run our services as separate processes).
"""
