"""bench/run: the side-by-side workload against the runtime and two hand-written baselines."""
