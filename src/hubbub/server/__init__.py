"""The hubbub IRC server."""
