"""Signals and the areas they fall in: reading and validating incident files (``incidents``),
importing them into the store (``intake``), ward boundaries (``wards``) and registered crime
counts (``outcomes``). Domain layer: imports storage and the shared helpers only."""
