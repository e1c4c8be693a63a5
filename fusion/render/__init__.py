"""The rendering layer: melodies and results made audible and visible, as files.

* :mod:`fusion.render.midi`      -- Melody <-> MIDI
* :mod:`fusion.render.audio`     -- MIDI -> audio with FluidSynth (one synthesizer, one SoundFont)
* :mod:`fusion.render.pianoroll` -- piano-roll figures and thumbnails
* :mod:`fusion.render.score`     -- the score: MusicXML (music21) engraved to SVG (verovio)
* :mod:`fusion.render.plots`     -- plotly figures to offline HTML and PNG
"""
