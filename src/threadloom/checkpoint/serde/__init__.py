"""Serializers that turn checkpoint values into tagged bytes and back (see ``jsonplus``)."""
