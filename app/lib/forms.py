"""The body of an HTML form, as handlers receive it."""

import re
from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body

FormBody = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
# A form whose fields may repeat or be odd (the question editor's live preview must never fail).
AnyFormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

# Characters no document or spreadsheet can hold (Word and Excel refuse them); a tab is kept.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def typed_text(value: Any) -> str:
    """What a person typed (or pasted, often from Word) in a form field: lines ended by
    "\\n", without the control characters a .docx or .xlsx cannot hold; "" for no text."""
    if not isinstance(value, str):
        return ""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
