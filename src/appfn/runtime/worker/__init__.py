"""Code that runs inside a sandboxed worker process. Standard library and appfn.sdk only."""
