"""Schedules as pure values and the decisions about them; every function takes ``now``."""
