"""The data layer: real jazz and folk melodies, from files to training windows and tokens.

* :mod:`fusion.data.jazz`     -- Weimar Jazz Database loader (CSV export and SQLite)
* :mod:`fusion.data.folk`     -- Essen folk song loader (Humdrum kern and music21's ABC corpus)
* :mod:`fusion.data.keys`     -- key annotations, key analysis and transposition to C
* :mod:`fusion.data.corpus`   -- filters, splits, training windows, statistics (cached)
* :mod:`fusion.data.cache`    -- the on-disk cache of parsed data and fitted judges
* :mod:`fusion.data.tokens`   -- reversible token encoding and its vocabulary
* :mod:`fusion.data.download` -- fetching the public data distributions
"""
