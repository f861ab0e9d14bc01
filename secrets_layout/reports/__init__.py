"""Reporters: they format results for people and machines, and decide nothing."""
