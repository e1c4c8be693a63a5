"""Trained systems on disk: writing ``checkpoints/<system>/`` and loading any of them.

A checkpoint folder holds

* ``config.json``   -- the system's kind, model sizes, preset, training facts, and ``sampling``:
  how its members make one melody (``{"combine": "choice"}``: each melody from one member drawn at
  random, RL; ``{"combine": "product", "weights": [w, 1 - w]}``: every token from the product of
  the members' distributions, PoE; ``{"combine": "cross"}``: one member's rhythm under the other's
  pitches, half the melodies each way round, Cross; ``{"combine": "hybrid"}``: one member's melody
  gives the rhythm, a melody of the other the pitches, joined afterwards, Hybrid, with ``tilt`` and
  ``candidates`` when each melody is one of k such joins chosen by a tilt toward the genres'
  midpoint, :mod:`fusion.model.hybrid`), a
  ``temperature`` the system is sampled at (MLE tuned), or
  ``{"tilt": ..., "candidates": k, "reward": ...}``: each melody is one of k candidates chosen by
  an exponential tilt toward the midpoint of the genres' statistics and a higher blend reward
  (Blend, :mod:`fusion.model.tilt`, whose genre critics the checkpoint carries);
* ``vocab.json``    -- the token vocabulary (:class:`fusion.data.tokens.Vocabulary`);
* ``weights.safetensors`` -- generator weights (LSTM systems; RL and PoE have two members,
  prefixed ``member0.`` and ``member1.``; Blend also its reward's critics, prefixed
  ``reward.C_A.``, ``reward.C_B.``, ``reward.S_A.``, ``reward.S_B.``), or ``distribution.json``
  for RM and MC;
* ``README.md``     -- the model card.

:func:`load_generator` returns a :class:`System` whatever the kind; ``System.sample`` gives
melodies, ``System.models`` the LSTMs whose next-token distributions the demo can mix.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from fusion import paths, registry
from fusion.model.baselines import NoteDistribution
from fusion.model.generator import Generator, GeneratorConfig
from fusion.model.grammar import PHRASE, Grammar, Phrase
from fusion.melody import TICKS_PER_BEAT, Melody
from fusion.model.sampling import primer_tokens, sample as sample_tokens
from fusion.model.blend import Reward
from fusion.model.tilt import Tilt
from fusion.model import hybrid
from fusion.data.tokens import Vocabulary

#: system name -> (trainer module keys, one-line description), derived from the registry
SYSTEMS = {spec.name: (list(spec.modules), spec.description) for spec in registry.SPECS if spec.trained}


def default_root() -> Path:
    """The project's checkpoint folder, ``<project>/checkpoints``."""
    return paths.PROJECT_ROOT / "checkpoints"


def available(root: str | Path | None = None) -> list[str]:
    """The trained systems that have a checkpoint on disk.

    Parameters
    ----------
    root : str or Path, optional
        The checkpoint folder (default ``checkpoints/`` of the project).

    Returns
    -------
    list of str
        System names, in the registry's order, whose ``<root>/<name>/config.json`` exists.
    """
    root = Path(root) if root else default_root()
    return [s for s in SYSTEMS if (root / s / "config.json").exists()]


@dataclass
class System:
    """A loaded system: ``sample`` melodies; ``models`` (LSTM systems) for next-token mixing."""

    name: str
    config: dict
    vocab: Vocabulary
    models: list[Generator] = field(default_factory=list)
    distribution: NoteDistribution | None = None
    path: Path | None = None
    reward: Reward | None = None  # the blend reward Blend's decoding rule weighs its candidates by

    def __post_init__(self):
        self.grammar = Grammar(self.vocab)

    @property
    def description(self) -> str:
        """The one-line description from the checkpoint's ``config.json`` ("" if none)."""
        return self.config.get("description", "")

    def sample(self, n: int = 1, bars: int = 4, seed: int = 0, temperature: float = 1.0, top_k: int = 0,
               primer: Melody | None = None, beats_per_bar: int = 4, phrase: Phrase | None = PHRASE) -> list[Melody]:
        """``n`` melodies of ``bars`` new bars (4/4 by default), reproducible from ``seed``. With a
        ``primer``, each melody is the primer followed by its continuation.

        How the members make one melody follows the checkpoint's ``sampling`` rule (module
        docstring): one member drawn at random per melody, or every token from the product of
        the members' distributions (PoE); RM and MC draw from their note distribution.

        Parameters
        ----------
        n : int, optional
            Number of melodies, 1 to 10,000.
        bars : int, optional
            New bars per melody, 1 to 256; each lasts ``beats_per_bar`` beats, so a melody gets
            ``bars * beats_per_bar * 12`` new ticks.
        seed : int, optional
            Random seed: the same seed (and arguments) gives the same melodies.
        temperature : float, optional
            Softmax temperature (> 0), multiplied by the checkpoint's own ``temperature``
            (``sampling`` in ``config.json``, default 1). Ignored by RM and MC.
        top_k : int, optional
            Sample among the k most probable tokens only; 0 keeps all. Ignored by RM and MC.
        primer : Melody, optional
            A melody to continue; it is quantized to the 12-ticks-per-beat grid.
        beats_per_bar : int, optional
            Beats (quarter notes) per bar; the melodies' meter is ``(beats_per_bar, 4)``.
        phrase : Phrase or None, optional
            The rule on rests (:class:`fusion.model.grammar.Phrase`: at most a bar and a half of
            rest, at most half a bar at the end, so the melody sounds through its bars); None
            samples without it.

        Returns
        -------
        list of Melody
            ``n`` melodies in beats; ``genre`` is the system's name, ``title``
            ``"<name> seed <seed> #<i>"``, and ``extra`` records the system, seed, temperature,
            top_k and the melody's index.

        Raises
        ------
        ValueError
            For ``n`` or ``bars`` out of range (or a ``temperature`` that is not positive).
        """
        if not 1 <= n <= 10_000:
            raise ValueError(f"n must be in 1..10000, got {n}")
        if not 1 <= bars <= 256:
            raise ValueError(f"bars must be in 1..256, got {bars}")
        ticks = bars * beats_per_bar * TICKS_PER_BEAT
        meta = {"system": self.name, "seed": seed, "temperature": temperature, "top_k": top_k}
        if self.distribution is not None:
            mels = self.distribution.sample(n, ticks, seed=seed, primer=primer, phrase=phrase)
        else:
            primer_ids = primer_tokens(self.vocab, primer)
            rule = self.config.get("sampling", {})
            temperature = temperature * float(rule.get("temperature", 1.0))
            if rule.get("combine") == "product":
                gen = torch.Generator().manual_seed(seed * 1009)
                seqs = sample_tokens(self.models, rule["weights"], n, ticks, self.grammar, temperature=temperature,
                                     top_k=top_k, generator=gen, primer=primer_ids, combine="product", phrase=phrase)
                mels = [self.vocab.decode(s) for s in seqs.tolist()]
                return self._named(mels, seed, beats_per_bar, meta)
            if rule.get("combine") == "hybrid":
                return self._named(self._hybrids(n, ticks, temperature, top_k, seed, primer_ids, phrase),
                                   seed, beats_per_bar, meta)
            if rule.get("combine") == "cross":
                return self._named(self._crossed(n, ticks, temperature, top_k, seed, primer_ids, phrase),
                                   seed, beats_per_bar, meta)
            if "tilt" in rule:
                return self._named(self._tilted(rule, n, ticks, temperature, top_k, seed, primer_ids, phrase),
                                   seed, beats_per_bar, meta)
            rng = random.Random(seed)
            member = [rng.randrange(len(self.models)) for _ in range(n)]
            rows: list = [None] * n
            for k, model in enumerate(self.models):
                idx = [i for i in range(n) if member[i] == k]
                if not idx:
                    continue
                gen = torch.Generator().manual_seed(seed * 1009 + k)
                seqs = sample_tokens([model], [1.0], len(idx), ticks, self.grammar, temperature=temperature,
                                     top_k=top_k, generator=gen, primer=primer_ids, phrase=phrase)
                for i, s in zip(idx, seqs.tolist()):
                    rows[i] = s
            mels = [self.vocab.decode(s) for s in rows]
        return self._named(mels, seed, beats_per_bar, meta)

    def _tilted(self, rule: dict, n: int, ticks: int, temperature: float, top_k: int, seed: int,
                primer_ids: list[int], phrase: Phrase | None, chunk: int = 64) -> list[Melody]:
        """Blend's decoding rule: each melody is one of ``candidates`` drawn from the model, chosen
        with probability softmax(lambda . phi + beta R) among them (:mod:`fusion.model.tilt`, (2);
        with a primer, the whole melody's statistics and reward count)."""
        fitted = Tilt.from_dict(rule["tilt"])
        k = int(rule["candidates"])
        gen = torch.Generator().manual_seed(seed * 1009)
        pick = torch.Generator().manual_seed(seed * 1009 + 1)
        out: list[Melody] = []
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            seqs = sample_tokens(self.models, [1.0], m * k, ticks, self.grammar, temperature=temperature, top_k=top_k,
                                 generator=gen, primer=primer_ids, phrase=phrase)
            cands = [self.vocab.decode(s) for s in seqs.tolist()]
            rewards = None
            if fitted.beta:
                if self.reward is None:
                    raise ValueError(f"{self.name}'s decoding rule weighs the blend reward, but its checkpoint "
                                     "has no reward critics")
                rewards = self.reward(seqs).numpy()
            out += [cands[i] for i in fitted.choose(cands, k, pick, rewards)]
        return out

    def _crossed(self, n: int, ticks: int, temperature: float, top_k: int, seed: int, primer_ids: list[int],
                 phrase: Phrase | None) -> list[Melody]:
        """Cross's rule (``docs/method.md``, "Crossed aspects"): melody i takes its rhythm from member
        0 (G_A, jazz) and its pitches from member 1 (G_B, folk) when ``i + seed`` is even, the
        reverse when it is odd; ``extra["rhythm"]`` names the rhythm's genre."""
        rows: list = [None] * n
        for way, order in enumerate(((0, 1), (1, 0))):
            idx = [i for i in range(n) if (i + seed) % 2 == way]
            if not idx:
                continue
            gen = torch.Generator().manual_seed(seed * 1009 + way)
            seqs = sample_tokens([self.models[k] for k in order], [1.0, 1.0], len(idx), ticks, self.grammar,
                                 temperature=temperature, top_k=top_k, generator=gen, primer=primer_ids,
                                 combine="cross", phrase=phrase)
            for i, seq in zip(idx, seqs.tolist()):
                rows[i] = self.vocab.decode(seq).replace(extra={"rhythm": ("jazz", "folk")[order[0]]})
        return rows

    def _hybrids(self, n: int, ticks: int, temperature: float, top_k: int, seed: int, primer_ids: list[int],
                 phrase: Phrase | None) -> list[Melody]:
        """Hybrid's rule (:mod:`fusion.model.hybrid`; ``docs/method.md``, "Hybrid"): melody i is the
        rhythm of a melody of member 0 (G_A, jazz) under the pitches of a melody of member 1 (G_B,
        folk) when ``i + seed`` is even, the reverse when it is odd, each source written by its own
        model alone; with the checkpoint's decoding rule (``tilt``), one of ``candidates`` such
        melodies of its way round, chosen by the statistics' tilt ("Hybrid's decoding rule")."""
        rule = self.config.get("sampling", {})
        fitted = Tilt.from_dict(rule["tilt"]) if "tilt" in rule else None
        return hybrid.sample(self.models, self.grammar, self.vocab, n, ticks, seed, temperature, top_k, primer_ids,
                             phrase, rule=fitted, candidates=int(rule.get("candidates", 1)),
                             longer=int(rule.get("tune_length", 4)))

    def _named(self, mels: list[Melody], seed: int, beats_per_bar: int, meta: dict) -> list[Melody]:
        return [m.replace(genre=self.name, meter=(beats_per_bar, 4), title=f"{self.name} seed {seed} #{i + 1}",
                          extra={**m.extra, **meta, "index": i}) for i, m in enumerate(mels)]


def load_generator(name: str, root: str | Path | None = None) -> System:
    """Load a trained system by name (:data:`fusion.registry.TRAINED`: ``fusion``, ``blend``, ``poe``,
    ``mle``, ``mle_t``, ``gan``, ``rl``, ``rm``, ``mc``, ``jazz``, ``folk``).

    Parameters
    ----------
    name : str
        The system's name in the registry.
    root : str or Path, optional
        The checkpoint folder (default ``checkpoints/`` of the project).

    Returns
    -------
    System
        Ready to ``sample``; a FileNotFoundError says how to train it when there is no checkpoint."""
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}")
    folder = (Path(root) if root else default_root()) / name
    cfg_path = folder / "config.json"
    if not cfg_path.exists():
        raise FileNotFoundError(f"no checkpoint for {name!r} at {folder} (train it with "
                                f"`python -m fusion train --preset paper --systems {name}`)")
    config = json.loads(cfg_path.read_text())
    vocab = Vocabulary.load(folder / "vocab.json")
    if config["kind"] == "notes":
        return System(name, config, vocab, distribution=NoteDistribution.load(folder / "distribution.json"),
                      path=folder)
    weights = load_file(str(folder / "weights.safetensors"))
    gcfg = GeneratorConfig(**config["generator"])
    models = []
    for k in range(config["members"]):
        g = Generator(gcfg)
        prefix = f"member{k}."
        g.load_state_dict({key[len(prefix):]: v for key, v in weights.items() if key.startswith(prefix)})
        g.eval()
        models.append(g)
    rule = config.get("sampling", {})
    reward = Reward.from_checkpoint(rule["reward"], weights, Grammar(vocab)) if rule.get("reward") else None
    return System(name, config, vocab, models=models, path=folder, reward=reward)


def write(folder: Path, name: str, config: dict, vocab: Vocabulary, models: list[Generator] = (),
          distribution: NoteDistribution | None = None, card: str = "",
          extra_tensors: dict[str, torch.Tensor] | None = None) -> None:
    """Write one checkpoint folder (see module docstring).

    Parameters
    ----------
    folder : Path
        The folder to write (created if needed; files in it are overwritten).
    name : str
        The system's name, stored in the weights file's metadata.
    config : dict
        The system's configuration; ``kind`` (and for LSTM systems ``members`` and
        ``generator``) is added before it is written to ``config.json``.
    vocab : Vocabulary
        The token vocabulary, written to ``vocab.json``.
    models : list of Generator, optional
        The generators of an LSTM system, saved to ``weights.safetensors`` with the prefixes
        ``member0.``, ``member1.``, ...
    distribution : NoteDistribution, optional
        The note distribution of RM or MC, written to ``distribution.json`` instead of weights.
    card : str, optional
        The model card, written to ``README.md``.
    extra_tensors : dict of str to torch.Tensor, optional
        More tensors for ``weights.safetensors`` (Blend's reward critics, ``reward.*``).

    Returns
    -------
    None
    """
    folder.mkdir(parents=True, exist_ok=True)
    vocab.save(folder / "vocab.json")
    if distribution is not None:
        distribution.save(folder / "distribution.json")
        config = {**config, "kind": "notes"}
    else:
        tensors = {f"member{k}.{key}": v.detach().cpu().contiguous()
                   for k, m in enumerate(models) for key, v in m.state_dict().items()}
        tensors.update(extra_tensors or {})
        save_file(tensors, str(folder / "weights.safetensors"), metadata={"system": name})
        config = {**config, "kind": "lstm", "members": len(models), "generator": models[0].config.to_dict()}
    (folder / "config.json").write_text(json.dumps(config, indent=1, sort_keys=True))
    (folder / "README.md").write_text(card)


@dataclass
class Mixture:
    """Several single-LSTM systems sampled as one: every token from the weighted mixture of their
    next-token distributions (:func:`fusion.model.sampling.next_token_probs`). It samples like a
    :class:`System`; the demo's fusion slider is one (jazz, the midpoint system, folk)."""

    name: str
    parts: list[System]
    weights: tuple[float, ...]
    description: str = ""

    def __post_init__(self):
        if len(self.parts) != len(self.weights) or not self.parts:
            raise ValueError("a mixture needs one weight per system")
        if any(len(p.models) != 1 for p in self.parts):
            raise ValueError("only single-LSTM systems can be mixed token by token")
        self.vocab, self.grammar = self.parts[0].vocab, self.parts[0].grammar

    def sample(self, n: int = 1, bars: int = 4, seed: int = 0, temperature: float = 1.0, top_k: int = 0,
               primer: Melody | None = None, beats_per_bar: int = 4, phrase: Phrase | None = PHRASE) -> list[Melody]:
        """As :meth:`System.sample`: ``n`` melodies of ``bars`` new bars, reproducible from ``seed``.

        Every token is drawn from the weighted mixture of the parts' next-token distributions.

        Parameters
        ----------
        n : int, optional
            Number of melodies (>= 1).
        bars : int, optional
            New bars per melody (>= 1), ``bars * beats_per_bar * 12`` ticks.
        seed : int, optional
            Random seed: the same seed (and arguments) gives the same melodies.
        temperature : float, optional
            Softmax temperature (> 0), applied as given (the parts' own checkpoint temperatures
            are not used).
        top_k : int, optional
            Sample among the k most probable tokens only; 0 keeps all.
        primer : Melody, optional
            A melody to continue; each melody is the primer followed by its continuation.
        beats_per_bar : int, optional
            Beats (quarter notes) per bar; the melodies' meter is ``(beats_per_bar, 4)``.

        Returns
        -------
        list of Melody
            ``n`` melodies in beats; ``genre`` is the mixture's name, ``title``
            ``"<name> seed <seed> #<i>"``, and ``extra`` records the mixture's name, the seed,
            temperature, top_k, the weights by part name and the melody's index.

        Raises
        ------
        ValueError
            For ``n < 1``, ``bars < 1`` or a ``temperature`` that is not positive.
        """
        primer_ids = primer_tokens(self.vocab, primer)
        gen = torch.Generator().manual_seed(seed * 1009)
        seqs = sample_tokens([p.models[0] for p in self.parts], list(self.weights), n,
                             bars * beats_per_bar * TICKS_PER_BEAT, self.grammar, temperature=temperature, top_k=top_k,
                             generator=gen, primer=primer_ids, phrase=phrase)
        meta = {"system": self.name, "seed": seed, "temperature": temperature, "top_k": top_k,
                "weights": dict(zip((p.name for p in self.parts), self.weights))}
        return [self.vocab.decode(q).replace(genre=self.name, meter=(beats_per_bar, 4),
                                             title=f"{self.name} seed {seed} #{i + 1}", extra=dict(meta, index=i))
                for i, q in enumerate(seqs.tolist())]
