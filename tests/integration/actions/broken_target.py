"""A module whose import fails: the python runner must report it as the step's failure."""

raise RuntimeError("this module refuses to load")
