"""Load generator, reference servers and harness for Jabber's fan-out benchmarks."""
