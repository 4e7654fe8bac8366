"""Cold start: importing the layer's audio/text/catalog/billing code must not load heavy libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "soundfile", "lameenc", "mutagen")


def test_importing_our_modules_loads_no_heavy_library():
    code = (
        "import sys\n"
        "import voicefn.audio, voicefn.audio.probe, voicefn.audio.encode, voicefn.audio.decode\n"
        "import voicefn.audio.join, voicefn.audio.pcm, voicefn.audio.mp3, voicefn.audio.ogg, voicefn.audio.wav\n"
        "import voicefn.text, voicefn.catalog, voicefn.billing\n"
        f"loaded = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r}]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
