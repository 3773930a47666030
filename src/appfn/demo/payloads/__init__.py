"""``payload.data`` of every demo store event, built from the stored records in exactly the
shape of the catalog's documented examples (``events.json``); the Admin API answers with the
same objects. Builders are pure: rows (and the rows they need) in, plain JSON out."""
