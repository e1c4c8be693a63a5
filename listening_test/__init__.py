"""The crowd listening test (paper, Sec. V-B and Table II): stimuli, the survey flow, storage of
answers and their analysis. The package is laid out now; its modules arrive with the survey
issue. See docs/architecture.md."""
