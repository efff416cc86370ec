"""The worker: claims queued executions, runs their actions, records how they ended."""
