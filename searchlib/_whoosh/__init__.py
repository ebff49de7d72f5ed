"""_whoosh"""
