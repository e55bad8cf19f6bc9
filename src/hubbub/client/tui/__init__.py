"""`hubbub chat`: the Textual TUI (see app.py; widgets do no I/O)."""
