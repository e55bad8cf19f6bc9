"""hubbub: a chat server and its clients, speaking IRC."""

__version__ = "0.1.0"
