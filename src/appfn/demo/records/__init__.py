"""The demo store's records: checks and writes on a caller's ``Session``, no events.

The Admin API routes wrap these in a transaction and add the events; ``appfn.demo.seed``
calls them directly to fill a store without emitting anything."""
