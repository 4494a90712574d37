"""The body of an HTML form, as handlers receive it."""

from typing import Annotated

from litestar.enums import RequestEncodingType
from litestar.params import Body

FormBody = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
