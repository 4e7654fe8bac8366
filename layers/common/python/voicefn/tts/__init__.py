"""Text-to-speech as a service of the layer: used by the tts function and by spoken chat."""
