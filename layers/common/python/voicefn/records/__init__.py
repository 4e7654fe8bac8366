"""Typed records that cross the StateStore port: task, voice, upload ticket, history item.

Each is a dataclass with its status enum, built from a stored row with ``from_row`` (which
refuses an unknown status or a missing key field with ValueError) and written back with
``to_row``. Fields a record does not name are kept in ``extra`` and written back unchanged, so
``Record.from_row(row).to_row() == row`` for every row the stores hold, and code that adds a
field (a lease, an attempt count) does not lose it by passing through an older record type.
Times are strings of :mod:`voicefn.clock`.
"""

from voicefn.records.history import HISTORY_TYPES, HistoryItem, HistoryType
from voicefn.records.task import FINAL_TASK_STATUSES, Task, TaskError, TaskStatus
from voicefn.records.ticket import TICKET_KIND_PREFIX, TicketPhase, UploadTicket
from voicefn.records.voice import Voice, VoiceStatus

__all__ = ["FINAL_TASK_STATUSES", "HISTORY_TYPES", "HistoryItem", "HistoryType", "TICKET_KIND_PREFIX",
           "Task", "TaskError", "TaskStatus", "TicketPhase", "UploadTicket", "Voice", "VoiceStatus"]
