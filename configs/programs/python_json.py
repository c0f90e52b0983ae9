"""python_json: JSON and dict-heavy work on many small objects, the way a Python service does it.

Loads the records, builds indexes (dicts of lists, sets, tuples), aggregates, serialises the
aggregates back to JSON and parses them again, and prints a digest. Run with PYTHONMALLOC=malloc,
so that every object comes from malloc rather than from Python's own small-object pool.
"""
import hashlib
import json
import sys

with open(sys.argv[1]) as f:
    records = json.load(f)

by_user, by_tag, kinds = {}, {}, {}
for r in records:
    by_user.setdefault(r["user"], []).append(r["id"])
    for t in r["tags"]:
        by_tag.setdefault(t, set()).add(r["user"])
    for e in r["events"]:
        key = (e["kind"], e["t"] % 97)
        kinds[key] = kinds.get(key, 0) + 1

summary = {
    "users": {u: {"count": len(ids), "first": ids[0], "ids": ids[:8]} for u, ids in by_user.items()},
    "tags": {t: sorted(users)[:5] for t, users in by_tag.items()},
    "kinds": {f"{k}:{m}": n for (k, m), n in sorted(kinds.items())},
    "attrs": {},
}
for r in records:
    for k, v in r["attrs"].items():
        slot = summary["attrs"].setdefault(k, {"n": 0, "sum": 0})
        slot["n"] += 1
        slot["sum"] += v

for _ in range(3):
    text = json.dumps(summary, sort_keys=True)
    summary = json.loads(text)

print(len(records), len(by_user), len(by_tag), len(kinds))
print(hashlib.sha256(text.encode()).hexdigest())
