# The python3 workload recorded into python3_threads.abt: two producer threads build dict records and
# hand them through a queue to a consumer thread, which serialises and drops them, so most objects
# are freed by another thread than the one that made them.
import json
import queue
import threading

q = queue.Queue(maxsize=64)


def produce(seed):
    for i in range(500):
        q.put({"id": seed * 100000 + i, "payload": "p" * (i % 300), "items": list(range(i % 40))})
    q.put(None)


def consume(producers):
    done = 0
    total = 0
    while done < producers:
        r = q.get()
        if r is None:
            done += 1
            continue
        total += len(json.dumps(r))
    print(total)


threads = [threading.Thread(target=produce, args=(s,)) for s in range(2)]
threads.append(threading.Thread(target=consume, args=(2,)))
for t in threads:
    t.start()
for t in threads:
    t.join()
