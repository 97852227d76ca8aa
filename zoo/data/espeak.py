"""espeak-ng from the `espeakng-loader` wheel (library and voice data, no system package), driven
through `ctypes`: text in, int16 samples out, in many voices, rates and pitches.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

from zoo.data.audio import SAMPLE_RATE, resample
from zoo.data.tsv import DataFileError

# -- espeak-ng ----------------------------------------------------------------------------------

ACCENTS = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc")
_RATE, _PITCH = 1, 3  # espeak_PARAMETER values
_SSML = 0x10  # espeak_Synth flag: the text is SSML (letters are spelled with say-as)
_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: samples come back through the callback


class Synthesizer:
    """espeak-ng from the `espeakng-loader` wheel, speaking into numpy arrays.

    espeak-ng keeps one global state per process; this class initializes it once.
    """

    _CALLBACK = ctypes.CFUNCTYPE(
        ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
    )
    _instance: Synthesizer | None = None

    def __init__(self):
        try:
            import espeakng_loader
        except ImportError:
            raise DataFileError(
                "The spoken-numbers data is spoken by espeak-ng from the `espeakng-loader` "
                "package, which is not installed: pip install espeakng-loader (or "
                "`pip install -e .`, which lists it)."
            ) from None
        library = espeakng_loader.get_library_path()
        try:
            self.lib = ctypes.CDLL(str(library))
        except OSError as error:
            raise DataFileError(
                f"espeak-ng's library {library} could not be loaded ({error}); reinstall it: "
                "pip install --force-reinstall espeakng-loader."
            ) from None
        data_path = espeakng_loader.get_data_path()
        self.rate = self.lib.espeak_Initialize(_SYNCHRONOUS, 0, str(data_path).encode(), 0)
        if self.rate <= 0:
            raise RuntimeError(f"espeak-ng did not start (espeak_Initialize: {self.rate}).")
        self.variants = sorted(p.name for p in (Path(data_path) / "voices" / "!v").iterdir())
        self._chunks: list[np.ndarray] = []
        self._callback = self._CALLBACK(self._collect)  # kept alive as long as self
        self.lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> Synthesizer:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _collect(self, samples, count, events):
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, (count,)).copy())
        return 0

    def speak(self, text: str, voice: str, rate: int, pitch: int) -> np.ndarray:
        """int16 samples at `SAMPLE_RATE` of `text` spoken by `voice` ("en-us+m3")."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {voice!r}.")
        self.lib.espeak_SetParameter(_RATE, rate, 0)
        self.lib.espeak_SetParameter(_PITCH, pitch, 0)
        words = [
            f"<say-as interpret-as='characters'>{w}</say-as>" if len(w) == 1 else w
            for w in text.split()
        ]
        ssml = f"<speak>{' '.join(words)}</speak>".encode()
        self._chunks = []
        self.lib.espeak_Synth(ssml, len(ssml) + 1, 0, 0, 0, _SSML, None, None)
        self.lib.espeak_Synchronize()
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return resample(audio, self.rate, SAMPLE_RATE)
