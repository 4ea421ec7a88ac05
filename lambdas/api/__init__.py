"""The HTTP API: one ASGI app (FastAPI), served by Mangum in Lambda and by uvicorn locally.

``create_app(services)`` builds it over the ports; the host decides who the caller is (``Authenticator``),
how uploads are presigned and how renditions are fetched (``lambdas.ports.Presigner``).
"""

from lambdas.api.app import create_app
from lambdas.api.services import ApiLimits, ApiServices

__all__ = ["ApiLimits", "ApiServices", "create_app"]
