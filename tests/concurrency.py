"""Running code at the same moment in several threads, as two workers (or two beats) would."""

import threading

from django.db import connection


def run_together(*targets):
    """Starts the targets at the same moment, each in its own thread and database connection
    (two workers running the same task); returns (results, errors): each target's return
    value in order, and the exceptions they raised."""
    barrier = threading.Barrier(len(targets))
    results, errors = [None] * len(targets), []

    def worker(index, target):
        try:
            barrier.wait(timeout=10)
            results[index] = target()
        except Exception as exc:  # collected for the test to look at
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors
