"""One document, everywhere: the schedule document of YAML, the REST API and the UI.

``ScheduleDocument.from_mapping(data)`` validates a loaded document and raises
``tickwork.errors.InvalidDocument`` naming every field that is wrong.
"""

from tickwork.spec.documents import ScheduleDocument

__all__ = ["ScheduleDocument"]
