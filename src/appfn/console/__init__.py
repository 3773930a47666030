"""The web console served by ``appfn serve`` at ``/``: server-rendered pages (Jinja2) with small
scripts that call the public HTTP API with the session cookie. Every asset ships in this package
(``static/``); the code editor bundle is built once with ``npm --prefix js run build`` and its
output committed, so installing appfn needs no Node.js.

* ``session``: sign-in cookie and CSRF tokens;
* ``web``: the viewer dependency, rendering, page errors;
* ``app``: ``install_console(app, platform)`` wires the pages and assets into the server;
* ``pages/``: one module per section (apps, functions, executions, stores, catalog, metrics).
"""
