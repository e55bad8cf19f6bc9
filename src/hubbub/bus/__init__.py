"""The bus: how events travel between the processes of one network.

One process uses :class:`~.local.LocalBus`, which hands every event straight
back. A cluster (later) uses a shared, totally ordered log; the pipeline
above does not change.
"""
