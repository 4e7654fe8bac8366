"""The `voicefn` command (placeholder until the runtime lands)."""


def main() -> None:
    raise SystemExit("not yet")
