"""Seeds the node of scripts/fuzz-api.sh and writes the schemathesis configuration.

Generated ids are random UUIDs, which find nothing: every operation on a product, drop, order or
coupon would stop at 404. So the seller lists products, schedules drops (one open, one with a
waiting room, one later, one raffle), a raffle trial and a coupon campaign, and the buyer buys,
claims, enters both raffles, fills the cart, checks out and pays, through the public API; the ids go into a schemathesis dictionary that path,
query and body ids are drawn from half of the time.

Usage: fuzz_api_seed.py BASE_URL PASSWORD OUT_DIR
Writes OUT_DIR/schemathesis.toml and OUT_DIR/token-<role> for buyer, seller and admin.
"""

import datetime
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

base, password, out = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, token=None, body=None, idempotent=False):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if idempotent:
        headers["idempotency-key"] = str(uuid.uuid4())
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
    except urllib.error.HTTPError as e:
        sys.exit(f"fuzz seed: {method} {path} answered {e.code}: {e.read().decode(errors='replace')}")
    return json.loads(text) if text else None


def at(seconds):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


tokens = {
    role: call("POST", "/api/v1/auth/login", body={"email": f"{role}@fuzz.example", "password": password})[
        "access_token"
    ]
    for role in ("buyer", "seller", "admin")
}
seller, buyer = tokens["seller"], tokens["buyer"]
ids = [call("GET", "/api/v1/me", seller)["id"], call("GET", "/api/v1/me", buyer)["id"]]


def product(name, price, stock, status="active"):
    created = call(
        "POST",
        "/api/v1/products",
        seller,
        {"name": name, "description": "Seeded for the fuzz run", "category": "fuzz", "price": price,
         "stock": stock, "status": status},
    )
    ids.append(created["id"])
    return created["id"]


shoes, bag = product("Fuzz sneakers", 10000, 1000), product("Fuzz bag", 20000, 50)
product("Fuzz draft", 5000, 10, status="draft")
call("POST", f"/api/v1/products/{shoes}/time-sales", seller,
     {"price": 8000, "starts_at": at(3600), "ends_at": at(7200)})

opens = 3


def drop(product_id, opens_in, **extra):
    terms = {"product_id": product_id, "quantity": 200, "price": 9000, "per_user_limit": 50,
             "opens_at": at(opens_in), "closes_at": at(4 * 3600)}
    created = call("POST", "/api/v1/drops", seller, {**terms, **extra})
    ids.append(created["id"])
    return created["id"]


open_drop = drop(shoes, opens)
room_drop = drop(bag, opens, waiting_room={"admit_per_minute": 600, "max_active": 100})
drop(shoes, 3600)
raffle_drop = drop(bag, opens, allocation="raffle",
                   raffle={"entries_close_at": at(2 * 3600), "claim_window_minutes": 30})
raffle_trial = call("POST", "/api/v1/trials", seller, {
    "product_id": shoes, "title": "Fuzz raffle trial", "slots": 10, "opens_at": at(opens),
    "closes_at": at(4 * 3600), "allocation": "raffle",
})["id"]
ids.append(raffle_trial)
campaign = call("POST", "/api/v1/coupon-campaigns", seller, {
    "name": "Fuzz 1000 off", "total": 500, "per_user_limit": 50,
    "claim_starts_at": at(opens), "claim_ends_at": at(4 * 3600),
    "valid_from": at(0), "valid_until": at(30 * 86400),
    "discount": {"kind": "fixed", "amount": 1000}, "min_order_amount": 0, "scope": {"kind": "seller"},
})["id"]
ids.append(campaign)

call("POST", f"/api/v1/drops/{room_drop}/queue", buyer)
time.sleep(opens + 1)
ids.append(call("POST", f"/api/v1/drops/{open_drop}/purchase", buyer, {"quantity": 1}, idempotent=True)["order_id"])
ids.append(call("POST", f"/api/v1/coupon-campaigns/{campaign}/claim", buyer, idempotent=True)["id"])
call("POST", f"/api/v1/drops/{raffle_drop}/entries", buyer, idempotent=True)
call("POST", f"/api/v1/trials/{raffle_trial}/entries", buyer, {"motivation": "fuzz"}, idempotent=True)
call("POST", "/api/v1/cart/items", buyer, {"product_id": shoes, "quantity": 2})
call("POST", "/api/v1/cart/items", buyer, {"product_id": bag, "quantity": 1})
paid = call("POST", "/api/v1/cart/checkout", buyer, {"product_ids": [bag]}, idempotent=True)
ids.append(paid["id"])
call("POST", f"/api/v1/orders/{paid['id']}/pay", buyer, {"method": "card", "card_number": "4111111111111111"},
     idempotent=True)

for role, token in tokens.items():
    with open(f"{out}/token-{role}", "w") as f:
        f.write(token)
bindings = ["path.id", "path.product_id", "path.image_id", "query.drop_id", "query.seller_id",
            "query.owner_id", "body.product_id", "body.coupon_id", "body.product_ids[*]"]
with open(f"{out}/schemathesis.toml", "w") as f:
    f.write("[dictionaries.seeded]\nvalues = [" + ", ".join(json.dumps(i) for i in ids) + "]\n\n[parameters]\n")
    for key in bindings:
        f.write(f'"{key}" = {{ dictionary = "seeded", probability = 0.5 }}\n')
print(f"fuzz seed: {len(ids)} ids")
