"""The voice function: voice cloning, the voice catalog, and enrollment started by an upload."""
