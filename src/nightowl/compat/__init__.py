"""Other frameworks' names on nightowl, so existing code moves over by changing imports.

:mod:`nightowl.compat.fastapi` mirrors the modules a FastAPI program imports. Each name is
an alias of nightowl's own, or a thin subclass that spells arguments FastAPI's way; nothing
is implemented twice. nightowl's own API stays the one its documentation describes.
"""
