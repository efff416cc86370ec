"""Actions: what one step of a run does (``http``, ``shell``, ``python``), and nothing else.

Each runner takes the step's validated action document and a :class:`~tickwork.actions.base.
StepContext`, does the work, and returns a :class:`~tickwork.actions.base.StepOutcome`. A
runner never touches the store and never decides about retries: the worker records the
outcome and the pure retry policy (:mod:`tickwork.schedule.retry`) decides what comes next.
"""
