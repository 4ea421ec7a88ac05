"""``PostForm``: an S3-style POST form read as it arrives, so that its policy is checked before its file.

S3 requires the ``file`` field to be the last of a presigned POST: everything its policy is checked against
comes before the first byte of the file. Starlette's ``request.form()`` reads (and spools) the whole body
first; this parser (python-multipart's streaming one) collects the fields and tells its caller when the
file part starts, so that a bad signature, an expired policy or an upload not awaited is refused while
the file is still on its way, having read no more of it than one chunk.
"""

from __future__ import annotations

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

FILE_FIELD = "file"
#: Fields a POST may carry before its file (S3's form has about ten), and the bytes of each.
MAX_FIELDS = 20
MAX_FIELD_BYTES = 8 * 1024
#: Bytes of one part's headers.
MAX_PART_HEADER_BYTES = 8 * 1024


class FormError(Exception):
    """A body that is not a POST form this endpoint reads; ``code`` is the problem's code (status 400)."""

    def __init__(self, message: str, *, code: str = "Upload.FormInvalid") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PostForm:
    """Feed the body's chunks to :meth:`feed`: ``fields`` fills, then ``file_started`` turns true (its bytes
    so far in ``file``), then ``file_ended``. Fields after the file are ignored, as S3 does."""

    def __init__(self, content_type: str | None, *, max_file_bytes: int) -> None:
        media_type, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if media_type != b"multipart/form-data" or not boundary:
            raise FormError("the body must be multipart/form-data with a boundary")
        self.fields: dict[str, str] = {}
        self.file = bytearray()
        self.file_started = False
        self.file_ended = False
        self.file_too_large = False
        self._max_file_bytes = max_file_bytes
        self._name: str | None = None
        self._value = bytearray()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._header_bytes = 0
        self._disposition = b""
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._part_begin,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_header_field": self._header_field_data,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
            },
        )

    def feed(self, chunk: bytes) -> None:
        """Parse ``chunk``; raises ``FormError`` for a malformed form or one over the bounds."""
        if self.file_ended or not chunk:
            return
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise FormError("the multipart body is malformed") from exc

    # --- parser callbacks -----------------------------------------------------------------------------
    def _part_begin(self) -> None:
        self._name = None
        self._value.clear()
        self._disposition = b""
        self._header_bytes = 0

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def _count_header(self, count: int) -> None:
        self._header_bytes += count
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise FormError("a part's headers are too long")

    def _header_end(self) -> None:
        if bytes(self._header_field).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        if self.file_started:
            return
        _kind, options = parse_options_header(self._disposition)
        raw = options.get(b"name")
        if raw is None:
            raise FormError("a part has no field name")
        self._name = raw.decode("utf-8", errors="replace")
        if self._name == FILE_FIELD:
            self.file_started = True
        elif len(self.fields) >= MAX_FIELDS:
            raise FormError(f"the form has more than {MAX_FIELDS} fields")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.file_ended:
            return
        if self._name == FILE_FIELD:
            if len(self.file) + end - start > self._max_file_bytes:
                # Counted, not kept: the caller refuses it.
                self.file_too_large = True
                return
            self.file += data[start:end]
            return
        if len(self._value) + end - start > MAX_FIELD_BYTES:
            raise FormError(f"a field is longer than {MAX_FIELD_BYTES} bytes")
        self._value += data[start:end]

    def _part_end(self) -> None:
        if self.file_ended or self._name is None:
            return
        if self._name == FILE_FIELD:
            self.file_ended = True
        else:
            self.fields.setdefault(self._name, self._value.decode("utf-8", errors="replace"))
