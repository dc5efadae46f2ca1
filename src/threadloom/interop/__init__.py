"""Bridges between threadloom and other libraries.

``threadloom.interop.langgraph`` (extra ``threadloom[langgraph]``) puts threadloom's savers and
stores under LangGraph's engine, LangGraph's savers under threadloom's, and migrates LangGraph
databases. Nothing outside this package imports LangGraph.
"""
