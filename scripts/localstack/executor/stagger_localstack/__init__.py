"""stagger's LocalStack runtime executor: Lambda execution environments as host processes."""
