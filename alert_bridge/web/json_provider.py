"""Flask's JSON decoding for request bodies, with the webhook's rules for hostile input.

Flask turns a ValueError from decoding into a 400, but a body nested deeper than the decoder's
recursion limit raises RecursionError (a 500), and a lone UTF-16 surrogate (`"\\ud800"`) decodes
fine and fails later when stored or logged. Both become ValueError here, so every endpoint that
reads JSON answers 400 for them.
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

from alert_bridge.alerts.payload import PayloadError, decode_json


class StrictJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        body = s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s
        try:
            return decode_json(body)
        except PayloadError as exc:
            raise ValueError(str(exc)) from None
