"""threadloom.engine."""
