"""The tsforge gateway: grpc-web and REST/JSON for browsers, in front of every service.

Routing and transcoding come from the protos' descriptors and google.api.http
annotations; see routes.py (routing), grpcweb.py (framing), rest.py (transcoding),
cors.py, upstream.py (calls to the services), app.py (the aiohttp application) and
server.py (starting and stopping it).
"""
