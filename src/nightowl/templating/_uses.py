"""Whether an app's templates need sessions: the rule that turns sessions on for pages.

``App(templates=...)`` (or the default ``templates/`` folder) switches sessions and CSRF
protection on only when a template uses them: calls ``csrf_input()``, ``csrf_token()`` or
``get_flashed_messages()``, reads ``request.session`` (or ``session``), or holds a
``<form method="post">``, which CSRF protection is for (a ``ModelForm`` rendered inside it
adds its token only when the app has sessions). A folder of templates that do none of
these, or an API app that merely runs next to a ``templates/`` folder, turns nothing on,
and so needs no secret key.
"""

from __future__ import annotations

import re

import jinja2
from jinja2 import nodes

__all__ = ["SESSION_NAMES", "uses_sessions"]

#: Template globals that need the session middleware (the CSRF token lives in the session).
SESSION_NAMES = frozenset({"csrf_input", "csrf_token", "get_flashed_messages", "session"})


#: A POST form in a template's own HTML.
_POST_FORM = re.compile(r"""<form\b[^>]*\bmethod\s*=\s*["']?post\b""", re.IGNORECASE)


def _mentions_session(tree: nodes.Template) -> bool:
    if any(name.name in SESSION_NAMES for name in tree.find_all(nodes.Name)):
        return True
    html = "".join(data.data for data in tree.find_all(nodes.TemplateData))
    if _POST_FORM.search(html):
        return True
    for getattr_ in tree.find_all(nodes.Getattr):
        if getattr_.attr == "session" and _is_request(getattr_.node):
            return True
    for getitem in tree.find_all(nodes.Getitem):
        key = getitem.arg.value if isinstance(getitem.arg, nodes.Const) else None
        if key == "session" and _is_request(getitem.node):
            return True
    return False


def _is_request(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "request"


def uses_sessions(env: jinja2.Environment) -> bool:
    """Whether any template ``env`` can list uses the session (see the module).

    A loader that cannot list its templates, or a template that does not parse, counts as
    using it: sessions stay on rather than a page failing for want of them.
    """
    if env.loader is None:
        return False
    try:
        names = env.list_templates()
    except TypeError:  # the loader cannot list its templates
        return True
    for name in names:
        try:
            source, _, _ = env.loader.get_source(env, name)
            tree = env.parse(source)
        except (jinja2.TemplateError, OSError, UnicodeDecodeError):
            return True
        if _mentions_session(tree):
            return True
    return False
