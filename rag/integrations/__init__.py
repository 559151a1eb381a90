"""Adapters to other frameworks (`langchain`), built on the public `rag` facade only.
Nothing else in `rag` imports them.
"""
