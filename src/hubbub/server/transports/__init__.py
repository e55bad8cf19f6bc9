"""Transports: where bytes meet sessions. Framing lives here and nowhere else."""
