"""Schedules and workflows declared in YAML files: reading them with the line of every
field (:mod:`.loading`), and what one declared document is (:mod:`.documents`)."""
