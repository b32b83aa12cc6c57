"""python manage.py mcp_server --token-env          (stdio, for a desktop agent)
python manage.py mcp_server --http [--port 8765]    (streamable HTTP, a token per request)"""

import os

from django.core.management.base import BaseCommand, CommandError

from api.mcp_server import build_server, http_app

TOKEN_VARIABLE = "ENMIENDA_API_TOKEN"


class Command(BaseCommand):
    help = "Serve the MCP tools for AI agents over stdio or streamable HTTP."

    def add_arguments(self, parser):
        parser.add_argument("--token-env", action="store_true",
                            help=f"stdio: act with the token in the {TOKEN_VARIABLE} environment variable")
        parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)

    def handle(self, *args, **options):
        if options["http"]:
            self._http(options["host"], options["port"])
            return
        if not options["token_env"]:
            raise CommandError(f"pass --token-env (the token is read from {TOKEN_VARIABLE}) or --http")
        secret = os.environ.get(TOKEN_VARIABLE, "")
        if not secret:
            raise CommandError(f"set {TOKEN_VARIABLE} to a personal API token")
        build_server(lambda: secret).run("stdio")

    def _http(self, host: str, port: int) -> None:
        import uvicorn

        _server, app = http_app(host=host)
        uvicorn.run(app, host=host, port=port, log_level="warning")
