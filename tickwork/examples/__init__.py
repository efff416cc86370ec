"""Code the example schedules run (``examples/`` at the top of the repository)."""
