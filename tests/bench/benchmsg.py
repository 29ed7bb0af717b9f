"""Message generator shared by the benchmark clients (tests/bench).

Every message has its own random content (a short text part and a base64 attachment of
random bytes), so clamd never answers from its verdict cache, which is keyed by content
hash. Random bytes cannot match the EICAR test signature or the synthetic signatures
(random MD5 hashes and random 20-byte body patterns).
"""
import base64
import email.utils
import os
import threading
import time


def make_message(run_id, index, size):
    """An RFC 5322 message of about `size` bytes with unique content."""
    boundary = "b" + os.urandom(8).hex()
    text = "\n".join(os.urandom(32).hex() for _ in range(12))  # ~780 bytes of text
    head = (
        "From: bench@bench.stanford.edu\r\n"
        "To: sink@sink.bench.example\r\n"
        f"Subject: bench {run_id} {index}\r\n"
        f"Message-ID: <{run_id}.{index}@bench.stanford.edu>\r\n"
        f"X-Bench-Id: {run_id}.{index}\r\n"
        f"Date: {email.utils.formatdate()}\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"{text}\r\n"
        f"--{boundary}\r\n"
        f'Content-Type: application/octet-stream; name="data{index}.bin"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="data{index}.bin"\r\n\r\n'
    )
    tail = f"\r\n--{boundary}--\r\n"
    room = max(size - len(head) - len(tail), 76)
    # base64 lines of 76 chars + CRLF: 78 bytes carry 57 raw bytes
    raw = os.urandom(room * 57 // 78)
    b64 = base64.b64encode(raw).decode()
    body = "\r\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))
    return (head + body + tail).encode()


def stats(latencies):
    lat = sorted(latencies)
    if not lat:
        return {"mean_ms": None, "p95_ms": None}
    return {
        "mean_ms": round(1000 * sum(lat) / len(lat), 1),
        "p95_ms": round(1000 * lat[min(len(lat) - 1, int(0.95 * len(lat)))], 1),
    }


def run_pool(count, conc, task):
    """Run task(i) for i in 0..count-1 on `conc` threads; return the wall time in seconds.

    Each task does its own bookkeeping (under its own lock); a task must not raise.
    """
    lock = threading.Lock()
    nxt = [0]

    def worker():
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= count:
                return
            task(i)

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - start
