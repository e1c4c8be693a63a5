"""The crowd listening test of the paper (Table II), run from the app: stimuli, the survey flow,
storage in a real database, and the researchers' analysis.

* :mod:`listening_test.db`       -- the tables (SQLAlchemy), SQLite in WAL mode or ``DATABASE_URL``;
* :mod:`listening_test.stimuli`  -- ``prepare``: the clip pool, rendered and stored;
* :mod:`listening_test.flow`     -- a participant's path and every rule an answer must pass;
* :mod:`listening_test.analysis` -- Table II, Fusion Level, agreement, exports;
* :mod:`listening_test.web`      -- the survey page, its JSON API and the results page;
* :mod:`listening_test.simulate` -- a simulated crowd that drives the running app over HTTP.
"""
