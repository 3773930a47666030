"""The demo apps' functions (``appfn serve --demo``): copies of ``examples/crm_sync.py``,
``examples/welcome_email.py`` and ``examples/shipping_rules.py``, shipped inside the package
(a test keeps them equal). Read as text and deployed; never imported."""
