"""Vector memory (chromadb): the creator's brand voice, how past posts performed, and what the audience asks.

SQL stays the source of truth for published posts and the brand voice; memory is the searchable index over
them (plus imported past posts and brand example posts, which live only here). `MemoryService` is the one
entry point; the content service calls it when posts are published or their metrics change.
"""
