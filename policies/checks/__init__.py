"""The checks, one module per concern; ``policies.catalog`` lists their definitions in order."""
