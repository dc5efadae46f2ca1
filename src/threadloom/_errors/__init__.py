"""The topics of ``threadloom.errors``; import the names from ``threadloom.errors``."""
