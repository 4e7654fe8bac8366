"""voicefn: the shared layer every function imports (mounted by FC at /opt/python)."""

__version__ = "0.1.0"
