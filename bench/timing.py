"""Wall-clock timing shared by the PyTorch references of the benchmark."""
import time


def time_runs(fn, runs, warmup=1):
    """Milliseconds of each of `runs` calls of fn, each timed alone, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times
