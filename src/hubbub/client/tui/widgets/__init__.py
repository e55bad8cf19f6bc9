"""The TUI's widgets: each shows what the app hands it and posts messages up."""

from .buffer_list import BufferList
from .input_line import InputLine
from .member_list import MemberList
from .message_log import MessageLog

__all__ = ["BufferList", "InputLine", "MemberList", "MessageLog"]
