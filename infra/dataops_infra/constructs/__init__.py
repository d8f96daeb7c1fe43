"""Constructs that each own one concern of the platform; the stacks compose them."""
