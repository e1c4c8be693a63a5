"""The demo page's parts that ``app.py`` assembles (above ``fusion/``, beside ``app.py``; nothing in
``fusion/`` imports them):

- :mod:`ui.errors`: a visitor's mistake becomes a message on the page and one line in the log, never
  a traceback (the page object, the upload refusals, the log format).
- :mod:`ui.links`: a melody's settings in the page address (``/?system=blend&seed=42...``), read back
  with every bad value named.
- :mod:`ui.session`: everything made in one browser session, as one zip.
- :mod:`ui.loading`: what the app is still reading on a first run, in words, and what waits for it.
- :mod:`ui.phone`: the browser-side pieces (scrolling to the result, copying the link, the tab bar
  on a narrow screen).
"""
