"""threadloom.func."""
