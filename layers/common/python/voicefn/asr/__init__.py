"""Speech recognition as a service of the layer: sync recognition and file transcription tasks."""
