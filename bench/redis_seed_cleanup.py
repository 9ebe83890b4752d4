#!/usr/bin/python3
"""bench/redis_seed_cleanup.py -- the incident's hand-pasted Redis step,
written as the incident describes it (for bench/redis.sh only; it is the
thing NOT to do): SCAN every key into memory, then delete every key that
does not contain the one customer's id, 100 keys per round trip.  It also
deletes the system tenants' keys and every key of no tenant.

    python3 bench/redis_seed_cleanup.py PORT CUSTOMER_ID
"""
import sys

import redis

r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))
customer = sys.argv[2].encode()
round_trips = 0

keys = []
cursor = 0
while True:
    # SCAN with COUNT 1000 (redis-py's scan_iter() would ask for Redis's
    # default of 10 per page: ten times the round trips)
    cursor, page = r.scan(cursor, count=1000)
    round_trips += 1
    keys.extend(page)
    if cursor == 0:
        break

doomed = [k for k in keys if customer not in k]
deleted = 0
for i in range(0, len(doomed), 100):
    deleted += r.delete(*doomed[i:i + 100])
    round_trips += 1
print(f'seed script: scanned {len(keys)}, deleted {deleted}, round trips {round_trips}')
