"""The body of an HTML form, as handlers receive it."""

from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body

FormBody = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
# A form whose fields may repeat or be odd (the question editor's live preview must never fail).
AnyFormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
