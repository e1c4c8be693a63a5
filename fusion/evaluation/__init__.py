"""The evaluation layer: how well each system fuses jazz and folk, measured.

* :mod:`fusion.features` (core)  -- per-melody histograms (DD, NPD, intervals, transitions)
* :mod:`fusion.evaluation.distances` -- EUD, EM, circular EM, 2-D EM; Diff, Ratio, Balance
* :mod:`fusion.evaluation.novelty`   -- copied 8-grams
* :mod:`fusion.evaluation.judge`     -- the automatic listening judge
* :mod:`fusion.evaluation.paper`     -- the paper's printed numbers and the Fusion Level
* :mod:`fusion.evaluation.tables`    -- ``python -m fusion evaluate``: sets, tables, intervals
* :mod:`fusion.evaluation.report`    -- ``reports/``: CSV, evaluation.md, figures
* :mod:`fusion.evaluation.curves`    -- training curves from a run's log
* :mod:`fusion.evaluation.seeds`     -- the seed study of the fusion-stage systems

``from fusion import evaluation`` gives the names of :mod:`fusion.evaluation.tables`
(``evaluation.evaluate``, ``evaluation.Options``, ...).
"""
from fusion.evaluation.tables import *  # noqa: F401,F403
from fusion.evaluation.tables import (BASELINES, FLAGS, GENRE_REFERENCES, ORDER, SCORE_COLUMNS, Data,  # noqa: F401
                                      Options, Results, _draw, _histograms, _interval, evaluate, fit_judge,
                                      judge_table, melody_flags, melody_sets, novelty_table, score_table,
                                      with_paper)
