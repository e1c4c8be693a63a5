"""The model layer: generators, critics, training (Algorithm 1 and beyond) and checkpoints.

* :mod:`fusion.model.grammar`   -- which token may come next (every sample is a valid melody)
* :mod:`fusion.model.generator` -- the LSTM generators G_A, G_B, G_F (and the baselines' LSTMs)
* :mod:`fusion.model.sampling`  -- batched sampling from one model, a mixture or a product of experts
* :mod:`fusion.model.critic`    -- the TextCNN Wasserstein critics and their gradient penalty
* :mod:`fusion.model.losses`    -- Eq. 4-14 as functions of critic scores
* :mod:`fusion.model.rollout`   -- Monte-Carlo rollouts: per-token rewards
* :mod:`fusion.model.blend`     -- the blend reward: both genre critics must accept the same melody
* :mod:`fusion.model.baselines` -- RM and MC note distributions
* :mod:`fusion.model.presets`   -- every size and schedule of a training run
* :mod:`fusion.model.train`     -- the trainer: every stage of every system
* :mod:`fusion.model.export`    -- checkpoints and model cards from a finished run
* :mod:`fusion.model.systems`   -- loading a checkpoint as a System; mixtures of systems
"""
