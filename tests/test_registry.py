"""The one table of systems (fusion.registry): every consumer derives its list from it."""
import pytest

from fusion import registry
from fusion.evaluation import report, tables
from fusion.model import systems, train


def test_names_are_unique_and_groups_known():
    names = [s.name for s in registry.SPECS]
    assert len(names) == len(set(names))
    assert {s.group for s in registry.SPECS} <= set(registry.GROUPS)
    assert registry.SLIDER_MIDPOINT in registry.TRAINED
    assert set(registry.FUSING) == {"fusion", "blend", "cross", "hybrid"}


def test_training_evaluation_and_checkpoints_derive_from_the_registry():
    assert train.SYSTEMS == registry.TRAINED
    assert set(train.NEEDS) == set(registry.TRAINED)
    assert list(systems.SYSTEMS) == list(registry.TRAINED)
    assert tables.ORDER == tuple(s.name for s in registry.SPECS)
    assert tables.Options().systems == registry.TRAINED
    assert tables.GENRE_REFERENCES == registry.GENRE_CONTROLS == ("real jazz", "real folk")
    assert tables.REFERENCES == registry.REAL == (*registry.GENRE_CONTROLS, *registry.FUSION_CONTROLS)
    assert registry.FUSION_CONTROLS == ("real medley", "real hybrid")
    for spec in registry.SPECS:
        assert set(spec.stages) <= set(train.STAGES), spec.name
        assert report._name(spec.name) == spec.short


def test_every_trainer_module_of_a_checkpoint_is_made_by_one_of_its_stages():
    made_by = {"G_A": "mle_jazz", "G_B": "mle_folk", "G_F": "mle_fusion", "G_MLE": "mle_fusion", "G_GAN": "gan",
               "G_RL_A": "rl", "G_RL_B": "rl", "G_POE_A": "poe", "G_POE_B": "poe", "G_BLEND": "blend"}
    for spec in registry.SPECS:
        for module in spec.modules:
            assert made_by[module] in spec.stages, (spec.name, module)


def test_unknown_system_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown system 'nope'; choose from rm, mc"):
        registry.spec("nope")
    assert registry.order(["blend", "zzz", "rm"]) == ["rm", "blend", "zzz"]


def test_the_demo_and_the_listening_test_derive_from_the_registry():
    from fusion import demo
    from listening_test import flow, stimuli

    assert sorted(demo.CHOICES) == sorted(s.name for s in registry.SPECS) and demo.CHOICES[0] == demo.MIDPOINT
    assert set(demo.LABELS) == set(demo.CHOICES)
    assert stimuli.SYSTEMS == registry.LISTENING_SYSTEMS and stimuli.CONTROLS == registry.REAL
    assert set(demo.REAL) == set(registry.REAL) and demo.REAL["real hybrid"] == "hybrid"
    assert set(flow.MAIN_GROUPS) == set(registry.LISTENING_SYSTEMS) | set(registry.REAL)
