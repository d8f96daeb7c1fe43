"""Thin stacks, split by rate of change, that compose the constructs."""
