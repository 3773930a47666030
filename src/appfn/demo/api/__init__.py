"""The Admin API (``/admin/v2``): a sub-application with its own error format."""
