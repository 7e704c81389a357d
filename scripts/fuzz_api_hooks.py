"""schemathesis hooks for scripts/fuzz-api.sh.

`POST /api/v1/admin/users/import` also takes `application/x-ndjson`, one record per line, which
schemathesis cannot send by itself: a generated record goes as one JSON line, a generated list as
one line per item.
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item, default=str) + "\n" for item in items).encode()
