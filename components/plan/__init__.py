"""The layout as data (a Plan of Registrations): pure functions of the declaration, no Pulumi import."""
