"""Ports for objects and state, with a cloud and a local adapter each (DESIGN.md §3)."""
