"""Backsoon: a professional network for people who are sometimes away."""
