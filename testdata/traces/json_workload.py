# The python3 workload recorded into python3_json.abt: builds, serialises, parses and merges
# dict-heavy records (the allocation pattern of a JSON web service).
import json

records = []
for i in range(350):
    records.append({"id": i, "name": "user%05d" % i, "tags": ["t%d" % (i % 7), "g%d" % (i % 13)],
                    "scores": [i * 0.5, i * 0.25, i % 17], "meta": {"k%d" % j: "v" * (j * 8) for j in range(i % 9)}})
text = json.dumps(records)
for _ in range(2):
    parsed = json.loads(text)
    index = {r["name"]: r for r in parsed}
    merged = {k: dict(v, extra="x" * (len(k) * 40)) for k, v in index.items() if v["id"] % 3}
    text = json.dumps(list(merged.values())[:1250] + parsed[:250])
print(len(text))
