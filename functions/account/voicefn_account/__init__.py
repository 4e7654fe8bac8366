"""The account function: history and the user's own DashScope API key (an event function)."""
