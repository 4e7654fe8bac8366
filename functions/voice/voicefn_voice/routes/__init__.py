"""The voice function's routes: seed 003 §3–4 (``clone``) and seed 001 (``seed001``)."""
