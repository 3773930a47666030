"""Code that runs inside a sandboxed worker process: the standard library and appfn (plus
mini-racer in a JS worker), nothing else of the platform's environment."""
