"""What the Pulumi engine would do with a registration, modelled as pure functions.

The simulation records what the program registers; this package answers the engine's questions
about it: which step a resource gets against the previous deployment (`classify`), which input
changes force the provider to replace a resource (`force_new`), and how values such as assets
compare and print (`values`). Every rule cites the engine or provider source it follows.
"""
