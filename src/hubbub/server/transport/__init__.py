"""Transports: each feeds bytes to a Connection and takes bytes from it."""
