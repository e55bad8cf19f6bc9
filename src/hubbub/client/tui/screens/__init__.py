"""The TUI's screens: the nickname prompt (the main screen is the app's)."""

from .nick_prompt import NickPrompt

__all__ = ["NickPrompt"]
