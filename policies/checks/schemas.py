"""JSON Schemas of the config properties several policies share."""

ENVIRONMENT = {
    "type": "string",
    "pattern": "^[a-z0-9][a-z0-9-]{0,62}$",
    "description": "The environment this stack deploys (lowercase slug, the first segment of every secret name).",
}
ACCOUNTS = {
    "type": "array",
    "items": {"type": "string", "pattern": "^[0-9]{12}$"},
    "uniqueItems": True,
    "minItems": 1,
    "description": "12-digit AWS account IDs that may be granted access: the environment's accounts and the "
                   "security account.",
}
REGIONS = {
    "type": "array",
    "items": {"type": "string", "pattern": "^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$"},
    "uniqueItems": True,
    "minItems": 1,
    "description": "AWS regions secrets may live in or be replicated to.",
}
