"""The browser client: static files under ``static/``, served by the
WebSocket listener at ``/`` (see :mod:`hubbub.web.site`).

The files are plain ES modules, HTML and CSS, shipped as package data: no
build step, and nothing is fetched from another site at run time.
"""
