"""Invoker port: run a job asynchronously, at least once (FC async invoke, or in-process)."""
