"""Shared pieces of the two hand-written baselines: the static Task model, bearer tokens,
settings and the seeding command. Each baseline adds only its own views and URLs."""
