"""The tsforge edge: Envoy in front of every service (gRPC, grpc-web, REST/JSON, CORS) and
the web console's static files behind it.

descriptors.py reads the services and google.api.http bindings from the protos'
descriptors; envoy_config.py renders every Envoy configuration from them; render.py
writes the committed ones (`make edge-config`), validate.py has Envoy check them;
envoy_process.py runs Envoy as a supervised child; console.py serves the static files,
/openapi.json (openapi.py) and /docs/; edge.py starts the two together for `tsforge up`.
"""
