"""Real speech from espeak-ng, loaded with ctypes from the ``espeakng-loader`` wheel.

The wheel ships ``libespeak-ng.so`` and its data (Mandarin ``cmn``, Cantonese ``yue``, English),
so this works offline with no system package. libespeak-ng keeps global state (one voice, one
set of parameters, one callback), hence one process-wide lock around every synthesis.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

from voicefn.audio.pcm import resample_pcm16
from voicefn.text.split import split_sentences

from voicefn_local.engines.clone import CloneProfile
from voicefn_local.engines.espeak_clone import Calibration, calibrate, clone_settings
from voicefn_local.engines.script import script_language

# speak_lib.h constants.
_AUDIO_OUTPUT_SYNCHRONOUS = 2   # espeak_Synth returns when done; the callback runs in our thread
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000              # a sentence-final pause, so concatenated sentences breathe
_POS_CHARACTER = 1
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH = 1, 2, 3

_VOICE_BY_LANGUAGE = {"zh": "cmn", "yue": "yue", "en": "en-us"}
_VARIANT_BY_GENDER = {"female": "f3", "male": "m3"}

_DEFAULT_WPM = 175              # espeak's normal speed; DashScope rate 1.0 maps here
_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                  ctypes.c_void_p)


class _Library:
    """The loaded library, initialised once; every method must be called under ``lock``."""

    def __init__(self) -> None:
        import espeakng_loader  # imported lazily: only local runs need it

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                     espeakng_loader.get_data_path().encode(), 0)
        if rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({rate})")
        self.lib = lib
        self.sample_rate = rate
        self._chunks: list[bytes] = []
        # Keep a reference: ctypes frees the trampoline if the Python object dies.
        self._callback = _SynthCallback(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None

    def _collect(self, wav: Any, numsamples: int, _events: Any) -> int:
        if numsamples > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0  # 0 = continue

    def set_voice(self, name: str) -> None:
        if name == self._voice:
            return
        if self.lib.espeak_SetVoiceByName(name.encode()) != 0:
            base = name.split("+", 1)[0]  # variant missing in this build: use the plain voice
            if self.lib.espeak_SetVoiceByName(base.encode()) != 0:
                raise RuntimeError(f"espeak-ng has no voice {base!r}")
        self._voice = name

    def synth(self, text: str, *, wpm: int, pitch: int, volume: int) -> bytes:
        self.lib.espeak_SetParameter(_PARAM_RATE, wpm, 0)
        self.lib.espeak_SetParameter(_PARAM_PITCH, pitch, 0)
        self.lib.espeak_SetParameter(_PARAM_VOLUME, volume, 0)
        data = text.encode("utf-8") + b"\0"
        self._chunks = []
        err = self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE,
                                    None, None)
        if err != 0:
            raise RuntimeError(f"espeak_Synth failed ({err})")
        pcm, self._chunks = b"".join(self._chunks), []
        return pcm


_lock = threading.Lock()
_library: _Library | None = None


def _get_library() -> _Library:
    global _library
    if _library is None:
        _library = _Library()
    return _library


_calibrations: dict[str, Calibration] = {}


def _calibration(library: _Library, name: str, language: str) -> Calibration:
    """espeak voice ``name``'s pitch and pace figures, measured once (call under ``_lock``)."""
    if name not in _calibrations:
        def synth(text: str, wpm: int, pitch: int) -> tuple[bytes, int]:
            library.set_voice(name)
            return library.synth(text, wpm=wpm, pitch=pitch, volume=100), library.sample_rate
        _calibrations[name] = calibrate(synth, language)
    return _calibrations[name]


def _clamp(value: float, low: int, high: int) -> int:
    return int(max(low, min(high, round(value))))


# English female: espeak's "steph" variant (a female voice), the one Whisper tiny.en understands
# best: chosen on bench/data/dev_sentences.txt (WER 14.6 %, against 18-36 % for f1-f5, Annie,
# belinda, linda, aunty), never on the held-out sentences bench/asr_wer.py reports on.
_VARIANT_OVERRIDES = {("en", "female"): "steph"}


def voice_name(language: str, gender: str) -> str:
    """The espeak-ng voice for a language ("zh", "yue", "en") and gender, e.g. ``cmn+f3``."""
    base = _VOICE_BY_LANGUAGE.get(language, "cmn")
    variant = _VARIANT_OVERRIDES.get((language, gender)) or _VARIANT_BY_GENDER.get(gender)
    return f"{base}+{variant}" if variant else base


class EspeakEngine:
    """Speech synthesis with espeak-ng, one sentence at a time, language picked per sentence."""

    name = "espeak"

    def synthesize(self, text: str, *, language: str, gender: str, sample_rate: int,
                   rate: float = 1.0, pitch: float = 1.0, volume: int = 50,
                   clone: CloneProfile | None = None) -> bytes:
        wpm = _clamp(_DEFAULT_WPM * rate, 80, 450)
        espeak_pitch = _clamp(50 * pitch, 0, 100)
        espeak_volume = _clamp(volume * 2, 0, 200)  # DashScope 50 = espeak 100 (normal)
        if clone is not None:
            language, gender = clone.language, clone.gender
        pieces: list[bytes] = []
        with _lock:
            library = _get_library()
            for sentence in split_sentences(text):
                if not sentence.strip():
                    continue
                sentence_language = script_language(sentence, language)
                name = voice_name(sentence_language, gender)
                if clone is not None:  # the sample's measured pitch and pace
                    calibration = _calibration(library, name, sentence_language)
                    wpm, espeak_pitch = clone_settings(calibration, clone, rate=rate, pitch=pitch)
                library.set_voice(name)
                pieces.append(library.synth(sentence, wpm=wpm, pitch=espeak_pitch,
                                            volume=espeak_volume))
            native_rate = library.sample_rate
        pcm = b"".join(pieces)
        return resample_pcm16(pcm, native_rate, sample_rate) if native_rate != sample_rate else pcm

    def prepare_clone(self, clone: CloneProfile) -> None:
        """Calibrate the espeak voices a clone will speak with (its language, and English for
        Latin text) now, while the voice is DEPLOYING, not in its first synthesis (~2 s each)."""
        with _lock:
            library = _get_library()
            for language in dict.fromkeys((clone.language, "en")):
                _calibration(library, voice_name(language, clone.gender), language)
