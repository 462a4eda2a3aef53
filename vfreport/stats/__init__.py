"""Generic statistics as pure functions: tests, intervals, power, sequential designs."""
