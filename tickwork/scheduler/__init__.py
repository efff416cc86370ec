"""The scheduler: settles due schedules into executions, on time, exactly once."""
