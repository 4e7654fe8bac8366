"""The chat function: OpenAI chat completions that speak while they stream (issue 9)."""
