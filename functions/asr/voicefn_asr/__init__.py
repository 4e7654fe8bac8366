"""The asr function: sync recognition, file transcription tasks, OSS-upload-triggered transcription."""
