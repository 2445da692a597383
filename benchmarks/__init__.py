"""Speed benchmarks of the coach: `python -m benchmarks [--quick] [--out FILE]`."""
