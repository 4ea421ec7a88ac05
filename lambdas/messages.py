"""Plain-language sentences for the system's stable error codes, defined once in ``api/web/messages.json``.

The web page fetches the same file (``static/messages.json``) and the CLI reads it through :func:`plain`:
programs keep matching on the ``code``, people read the sentence. This module imports nothing of the API
(the CLI uses it without loading FastAPI).
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files

#: The table's resource, next to the page that fetches it.
MESSAGES_RESOURCE = ("api", "web", "messages.json")
#: Stands for the problem's own detail in a sentence.
DETAIL = "{detail}"


@functools.cache
def messages() -> dict[str, str]:
    """Code -> sentence (entries starting with ``_`` are notes, not codes)."""
    text = files("lambdas").joinpath(*MESSAGES_RESOURCE).read_text(encoding="utf-8")
    return {code: sentence for code, sentence in json.loads(text).items() if not code.startswith("_")}


def plain(code: str, detail: str = "") -> str:
    """The sentence for ``code`` with ``detail`` put in; an unknown code shows its detail (or the code)."""
    table = messages()
    sentence = table.get(code) or (table["Http.Error"] if code.startswith("Http.") else None)
    if sentence is None:
        return detail or code
    return sentence.replace(DETAIL, detail.rstrip(". ") or code)
