"""`tradewatch stack [up|status|stop]`: the local stack (see tradewatch/stack.py)."""

from __future__ import annotations

from tradewatch.stack import HELP, add_arguments, run

__all__ = ["HELP", "add_arguments", "run"]
