"""Reading pool and quota files, and writing outputs atomically."""
